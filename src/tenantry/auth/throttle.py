"""Request rates, failed sign-ins per client IP, reset requests per address and links mailed per account,
counted with ``limits``.

Counters live in each process's memory, or in Redis when ``TENANTRY_REDIS_URL`` is set, so that every
instance behind a load balancer sees the same counts. When Redis cannot be reached the throttle lets
requests through and logs it: a Redis outage must not lock every user out (account lockout, kept in
the database, still applies).
"""

import ipaddress
import logging
import math
import time
from collections.abc import Awaitable

import limits
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from tenantry.core.users.emailkey import email_key
from tenantry.errors import RateLimited
from tenantry.i18n import N_
from tenantry.settings import Settings

log = logging.getLogger("tenantry.throttle")
TOO_MANY_LINKS = N_("too many emails of this kind were sent to this account; try again later")
_REDIS_TIMEOUT_SECONDS = 1.0


def _storage(settings: Settings) -> Storage:
    if not settings.redis_url:
        return MemoryStorage()
    url = settings.redis_url if settings.redis_url.startswith("async+") else f"async+{settings.redis_url}"
    return RedisStorage(
        url,
        implementation="redispy",
        wrap_exceptions=True,
        key_prefix=settings.redis_key_prefix,
        socket_timeout=_REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
    )


def client_key(client_ip: str) -> str:
    """What one client is: its IPv4 address, or the /64 network of an IPv6 one (hosts rotate within it)."""
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


class Throttle:
    def __init__(self, settings: Settings) -> None:
        self.storage = _storage(settings)
        self._limiter = MovingWindowRateLimiter(self.storage)
        self._request_limits = limits.parse_many(settings.auth_rate_limit) if settings.auth_rate_limit else []
        self._ip_failures = limits.RateLimitItemPerSecond(
            settings.login_ip_max_failures, settings.login_ip_window_seconds
        )
        self.password_reset = limits.parse(settings.password_reset_rate_limit)
        self._mailed_link = limits.parse(settings.mailed_link_rate_limit)

    async def _allowed(self, check: Awaitable[bool]) -> bool:
        try:
            return await check
        except StorageError as error:
            log.warning("rate-limit storage unavailable, request let through: %s", type(error.storage_error).__name__)
            return True

    async def wait_for(self, item: limits.RateLimitItem, *keys: str) -> int | None:
        """Count one event for ``keys`` against ``item``: None when allowed, else seconds until one is."""
        if await self._allowed(self._limiter.hit(item, *keys)):
            return None
        reset_at = (await self._limiter.get_window_stats(item, *keys)).reset_time
        return max(1, math.ceil(reset_at - time.time()))

    async def admit(self, endpoint: str, client_ip: str | None) -> None:
        """Count one request to ``endpoint``; RateLimited when the client is over a limit."""
        if client_ip is None:
            return
        client = client_key(client_ip)
        for item in self._request_limits:
            retry_after = await self.wait_for(item, "request", endpoint, client)
            if retry_after is not None:
                raise RateLimited(f"too many requests: at most {item} from one client", retry_after=retry_after)

    async def admit_password_reset(self, email: str, client_ip: str | None) -> None:
        """Count one reset request by address, from ``client_ip`` (the client's requests to every reset form
        count together) and for the address (whether or not an account has it); RateLimited when either is
        over. The client comes first: one that is over does not spend the address's allowance."""
        await self.admit("password-reset", client_ip)
        retry_after = await self.wait_for(self.password_reset, "password-reset", email_key(email))
        if retry_after is not None:
            raise RateLimited("too many reset requests for this address; try again later", retry_after=retry_after)

    async def admit_mailed_link(self, account_id: str, purpose: str) -> None:
        """Count one link of ``purpose`` mailed to the account (``core.flows.context.MailedLinkQuota``)."""
        retry_after = await self.wait_for(self._mailed_link, "mailed-link", purpose, account_id)
        if retry_after is not None:
            raise RateLimited(TOO_MANY_LINKS, retry_after=retry_after)

    async def failures_exceeded(self, client_ip: str | None) -> bool:
        """True when the client has failed to sign in too often within the window."""
        if client_ip is None:
            return False
        return not await self._allowed(self._limiter.test(self._ip_failures, "login-failure", client_key(client_ip)))

    async def count_failure(self, client_ip: str | None) -> None:
        if client_ip is not None:
            await self._allowed(self._limiter.hit(self._ip_failures, "login-failure", client_key(client_ip)))

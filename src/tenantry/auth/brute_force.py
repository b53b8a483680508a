"""Brute-force defence around password verification, and rate limits on the sign-in endpoints.

A sign-in is refused with the same answer as a wrong password when its client IP has failed too often
(no hash is computed then: the refusal does not depend on the account), or when its login name is locked
(the hash is still computed, so that a lockout cannot tell a known account from an unknown one). A wrong
second factor counts towards its client IP's failures as a wrong password does (``second_factor_counted``).
"""

import ipaddress
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.credentials import lockout
from tenantry.core.mfa.challenges import PasskeyRefused, WrongAnswer
from tenantry.db.base import utcnow
from tenantry.runtime import Runtime, get_runtime


def client_ip(request: Request) -> str | None:
    """The peer's address; uvicorn puts the client's there when the proxy is in FORWARDED_ALLOW_IPS, taken from
    ``X-Forwarded-For`` as sent. Only an IP address counts (throttled, audited): anything else a trusted proxy
    passes on (a name, a value longer than any address) is None, as for a request with no peer."""
    host = request.client.host if request.client else None
    if host is None or len(host) > 45:  # (the longest IPv6 text, an IPv4-mapped one)
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    return host


async def verify_password(
    session: AsyncSession,
    runtime: Runtime,
    login_name: str,
    client: str | None,
    verify: Callable[[], Awaitable[bool]],
    *,
    state_when_right: lockout.StateReader | None = None,
) -> bool:
    """Run ``verify`` under the brute-force rules; True only for a right password that nothing blocks.

    Failures are written to ``session``: the caller must keep them when it answers with an error
    (``TenantryError(keep_changes=True)``). ``state_when_right``: see ``lockout.verify_counted``.
    """
    throttle = runtime.throttle
    if await throttle.failures_exceeded(client):
        return False
    rules = lockout.LockoutRules.of(runtime.settings)
    verdict = await lockout.verify_counted(
        session, rules, login_name, verify, utcnow(), state_when_right=state_when_right
    )
    if verdict is lockout.Verdict.WRONG:
        await throttle.count_failure(client)
    return verdict is lockout.Verdict.RIGHT


Answered = TypeVar("Answered")


async def second_factor_counted(
    runtime: Runtime, client: str | None, check: Callable[..., Awaitable[Answered]]
) -> Answered:
    """A second factor checked by ``check`` (``core.mfa.challenges``, which counts a wrong one on the sign-in's
    challenge and towards the account's lockout, and records it) under the per-IP rule, as a password is: a
    client that failed too often has it refused unchecked (``check(unchecked=True)``: recorded as a failure
    all the same), and a wrong one is a failure of ``client``."""
    unchecked = await runtime.throttle.failures_exceeded(client)
    try:
        return await check(unchecked=unchecked)
    except (WrongAnswer, PasskeyRefused):
        await runtime.throttle.count_failure(client)
        raise


def rate_limited(endpoint: str) -> Callable[..., Awaitable[None]]:
    """Dependency: count the request against the client's rate limits for ``endpoint`` (429 when over)."""

    async def dependency(request: Request, runtime: Runtime = Depends(get_runtime)) -> None:
        await runtime.throttle.admit(endpoint, client_ip(request))

    return dependency

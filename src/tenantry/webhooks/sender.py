"""One webhook POST, safe to aim at URLs that customers choose.

The host is resolved here and every address it resolves to must be public (unless private URLs are
allowed); the connection then goes to the address that was checked (the URL's host stays in the
``Host`` header and in TLS, for SNI and certificate checks), so a second DNS answer cannot point it
elsewhere. Redirects are not followed, the whole exchange has one deadline, and at most
``BODY_LIMIT`` bytes of the answer are read.

httpx is imported when a webhook is sent, not with this module: it keeps 2 MiB resident, which a served
process whose organizations subscribe no webhook (or whose outbox a worker apart delivers) never needs.
"""

import asyncio
import ipaddress
import socket
import time
from urllib.parse import urlsplit, urlunsplit

from tenantry.core.webhooks.attempts import Outcome
from tenantry.core.webhooks.urls import is_public

BODY_LIMIT = 64 * 1024
_SNIPPET = 200


class Refused(Exception):
    """The URL may not be called (a non-public address, an unresolvable host)."""


async def _resolve(host: str, port: int, allow_private: bool) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise Refused(f"cannot resolve {host}: {error}") from error
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise Refused(f"{host} has no address")
    refused = [str(address) for address in addresses if not is_public(address)]
    if refused and not allow_private:
        raise Refused(f"{host} resolves to a non-public address ({', '.join(refused)})")
    return addresses[0]


async def _exchange(url: str, body: bytes, headers: dict[str, str], allow_private: bool, seconds: float) -> Outcome:
    import httpx  # deferred: see the module's docstring

    parts = urlsplit(url)
    if parts.scheme != "https" and not allow_private:
        raise Refused("only https:// URLs are called")  # saved while private URLs were allowed
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = await _resolve(host, port, allow_private)
    literal = f"[{address}]" if address.version == 6 else str(address)
    pinned = urlunsplit(parts._replace(netloc=f"{literal}:{port}"))
    host_header = parts.netloc.rsplit("@", 1)[-1]
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    started = time.perf_counter()
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=seconds) as client:
        request = client.build_request(
            "POST", pinned, content=body, headers={**headers, "host": host_header}, extensions=extensions
        )
        response = await client.send(request, stream=True)
        try:
            answer = b""
            async for chunk in response.aiter_raw():
                answer += chunk
                if len(answer) >= BODY_LIMIT:
                    break
        finally:
            await response.aclose()
    latency = round((time.perf_counter() - started) * 1000)
    if 200 <= response.status_code < 300:
        return Outcome(response_status=response.status_code, latency_ms=latency)
    snippet = answer[:_SNIPPET].decode("utf-8", "replace")
    return Outcome(
        response_status=response.status_code, latency_ms=latency, error=f"HTTP {response.status_code}: {snippet}"
    )


async def post(url: str, body: bytes, headers: dict[str, str], *, allow_private: bool, seconds: float) -> Outcome:
    """POST ``body`` to ``url`` within ``seconds``; the outcome, never an exception, for whatever happened."""
    import httpx  # deferred: see the module's docstring

    try:
        return await asyncio.wait_for(_exchange(url, body, headers, allow_private, seconds), timeout=seconds)
    except Refused as error:
        return Outcome(error=f"refused: {error}", refused=True)
    except TimeoutError:
        return Outcome(error=f"timed out after {seconds:g} s")
    except httpx.HTTPError as error:
        return Outcome(error=f"{type(error).__name__}: {error}")

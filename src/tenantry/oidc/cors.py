"""CORS for browser clients on the token, userinfo and revocation endpoints: only the origins a client
registered (``allowed_origins``) are answered, never ``*``, never with cookies.

Error answers carry them too (a browser app must be able to read ``invalid_grant``): each endpoint depends
on ``for_errors``, which keeps the headers in the request's state, for the origin the calling client
registered once the client is known (``for_client``), or, before that (an unknown client, a bad token),
when some client registered it, as the preflight answers; ``ErrorCorsMiddleware`` adds them to an answer
that has none, whichever error handler wrote it.
"""

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy import String, cast, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from tenantry.core.clients.models import OAuthClient
from tenantry.runtime import get_session
from tenantry.web.asgi import HttpMiddleware

_ALLOWED_HEADERS = "authorization, content-type"
_STATE = "tenantry_cors_headers"
_LONGEST_ORIGIN = 500


def cors_headers(request: Request, client: OAuthClient | None) -> dict[str, str]:
    origin = request.headers.get("origin")
    if origin is None or client is None or origin not in client.allowed_origins:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def for_client(request: Request, client: OAuthClient | None) -> dict[str, str]:
    """The headers for ``client``'s origins, which its answers (errors included) carry from now on."""
    headers = cors_headers(request, client)
    setattr(request.state, _STATE, headers)
    return headers


async def for_errors(request: Request, session: AsyncSession = Depends(get_session)) -> None:
    """Dependency: until the client is known, an error answers an origin that some client registered."""
    origin = request.headers.get("origin")
    if origin is not None and len(origin) <= _LONGEST_ORIGIN and await _registered(session, origin):
        setattr(request.state, _STATE, {"Access-Control-Allow-Origin": origin, "Vary": "Origin"})


class ErrorCorsMiddleware(HttpMiddleware):
    """Adds the CORS headers an endpoint kept (``for_errors``/``for_client``) to an answer without any."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:

        async def sending(message: Message) -> None:
            kept = scope.get("state", {}).get(_STATE) if message["type"] == "http.response.start" else None
            if kept:
                headers = MutableHeaders(scope=message)
                if "access-control-allow-origin" not in headers:
                    headers.update(kept)
            await send(message)

        await self.app(scope, receive, sending)


async def _registered(session: AsyncSession, origin: str) -> bool:
    """Whether some client registered ``origin`` (the preflight does not say which client is asking)."""
    escaped = origin.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    statement = select(OAuthClient.allowed_origins).where(
        cast(OAuthClient.allowed_origins, String).like(f'%"{escaped}"%', escape="\\")
    )
    return any(origin in listed for listed in await session.scalars(statement))


async def preflight(request: Request, session: AsyncSession) -> Response:
    origin = request.headers.get("origin")
    if origin is None or len(origin) > _LONGEST_ORIGIN or not await _registered(session, origin):
        return Response(status_code=204)
    headers = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET, POST",
        "Access-Control-Allow-Headers": _ALLOWED_HEADERS,
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }
    return Response(status_code=204, headers=headers)

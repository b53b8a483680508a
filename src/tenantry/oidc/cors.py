"""CORS for browser clients on the token, userinfo and revocation endpoints: only the origins a client
registered (``allowed_origins``) are answered, never ``*``, never with cookies."""

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import String, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.clients.models import OAuthClient

_ALLOWED_HEADERS = "authorization, content-type"


def cors_headers(request: Request, client: OAuthClient | None) -> dict[str, str]:
    origin = request.headers.get("origin")
    if origin is None or client is None or origin not in client.allowed_origins:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


async def _registered(session: AsyncSession, origin: str) -> bool:
    """Whether some client registered ``origin`` (the preflight does not say which client is asking)."""
    escaped = origin.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    statement = select(OAuthClient.allowed_origins).where(
        cast(OAuthClient.allowed_origins, String).like(f'%"{escaped}"%', escape="\\")
    )
    return any(origin in listed for listed in await session.scalars(statement))


async def preflight(request: Request, session: AsyncSession) -> Response:
    origin = request.headers.get("origin")
    if origin is None or len(origin) > 500 or not await _registered(session, origin):
        return Response(status_code=204)
    headers = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET, POST",
        "Access-Control-Allow-Headers": _ALLOWED_HEADERS,
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }
    return Response(status_code=204, headers=headers)

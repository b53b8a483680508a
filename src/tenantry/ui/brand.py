"""An organization's logo and colour, served by Tenantry so the pages' Content-Security-Policy needs no other
origin and no inline style.

Both are public on purpose, without authentication: the sign-in page shows them before anyone signs in, and
emails link the logo. They answer 404 for an unknown or deleted organization, and name nothing else.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.orgs import branding
from tenantry.runtime import get_session
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/ui/brand", route_class=UnitOfWorkRoute, include_in_schema=False)
OrgId = Annotated[str, Path(pattern=r"^[0-9a-f]{24}$")]
_YEAR = "public, max-age=31536000, immutable"
_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}


def _not_found() -> Response:
    return Response(status_code=404, headers={"Cache-Control": "no-store", **_HEADERS})


@router.get("/{org_id}/logo")
async def logo(request: Request, org_id: OrgId, session: AsyncSession = Depends(get_session)) -> Response:
    """The organization's logo (PNG, JPEG or WebP, checked at upload), with its ETag and a long cache."""
    found = await branding.logo_of(session, org_id)
    if found is None:
        return _not_found()
    etag = f'"{found.etag}"'
    headers = {"ETag": etag, "Cache-Control": _YEAR, **_HEADERS}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(found.data, media_type=found.media_type, headers=headers)


@router.get("/{org_id}/style.css")
async def style(request: Request, org_id: OrgId, session: AsyncSession = Depends(get_session)) -> Response:
    """The organization's colour as CSS custom properties, over the pages' own stylesheet. The colour was
    validated as ``#rrggbb`` when it was set, so nothing else can reach this stylesheet."""
    color = await branding.color_of(session, org_id)
    if color is None:
        return _not_found()
    css = (
        f":root {{ --accent: {color}; --accent-ink: #ffffff; --brand: {color}; }}\n.bar .brand {{ color: {color}; }}\n"
    )
    etag = f'"{color.lstrip("#")}"'
    headers = {"ETag": etag, "Cache-Control": _YEAR, **_HEADERS}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(css, media_type="text/css", headers=headers)

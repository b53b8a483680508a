"""Partners and customers: the organizations that may act here (with the role each acts with; grant,
revoke) and those where this organization's members may act."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.policy import Policy
from tenantry.console.pages import (
    Console,
    ConsoleRoute,
    checked_form,
    console_access,
    field_errors,
    go,
    render,
    text_field,
)
from tenantry.core.partners import revocation, service
from tenantry.core.partners.schemas import PartnerGrant, PartnerLinkOut
from tenantry.core.roles import service as roles
from tenantry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tenantry.runtime import get_session

router = APIRouter(prefix="/console/{org}/partners", route_class=ConsoleRoute, include_in_schema=False)
LISTED = 200
PartnerRef = Annotated[str, Path(max_length=100)]
_WRITE = Policy("partners:write", impersonation=False)


async def _partners_page(
    request: Request, session: AsyncSession, console: Console, status: int = 200, **context: Any
) -> Response:
    partners, _ = await service.page(session, console.org, customers=False, after=None, limit=LISTED)
    customers: list[PartnerLinkOut] = []
    if console.can("partners:act"):
        customers, _ = await service.page(session, console.org, customers=True, after=None, limit=LISTED)
    page = {
        "partners": partners,
        "customers": customers,
        "roles": await roles.list_for_org(session, console.org.id),
        "errors": {},
        "values": {},
        "notice_text": "Access revoked." if request.query_params.get("notice") == "revoked" else None,
        **context,
    }
    return render(request, "partners.html", page, status, console)


@router.get("")
async def partners_page(
    request: Request,
    console: Console = Depends(console_access(Policy("partners:read"))),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Partner organizations (who may act here, with which role) and customers (where we may act)."""
    return await _partners_page(request, session, console)


@router.post("")
async def grant_partner(
    request: Request, console: Console = Depends(console_access(_WRITE)), session: AsyncSession = Depends(get_session)
) -> Response:
    """Let a partner organization's members (holding partners:act there) act here with a role."""
    form = await checked_form(request)
    values = {"partner_org": text_field(form, "partner_org", 100), "role": text_field(form, "role", 64)}
    try:
        await service.grant(session, console.access.actor, console.org, PartnerGrant(**values))
    except (ValidationError, InvalidInput) as error:
        return await _partners_page(request, session, console, 400, errors=field_errors(error), values=values)
    except (Conflict, NotFound, PermissionDenied) as error:
        errors = {"partner_org": f"Partner: {error.detail}"}
        return await _partners_page(request, session, console, 409, errors=errors, values=values)
    return go(request, f"/console/{console.org.slug}/partners")


@router.get("/{partner}/revoke")
async def confirm_revoke(
    request: Request, partner: PartnerRef, console: Console = Depends(console_access(_WRITE))
) -> Response:
    """Ask before revoking a partner's access: the button on this page does it."""
    base = f"/console/{console.org.slug}/partners"
    page = {
        "heading": f"Revoke {partner}'s access",
        "question": f"{partner}'s members stop acting in {console.org.name} from their next request on.",
        "action": f"{base}/{partner}/revoke",
        "button": "Revoke access",
        "danger": True,
        "back": base,
    }
    return render(request, "confirm.html", page, console=console)


@router.post("/{partner}/revoke")
async def revoke_partner(
    request: Request,
    partner: PartnerRef,
    console: Console = Depends(console_access(_WRITE)),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Revoke a partner organization's access."""
    await revocation.revoke(session, console.access.actor, console.org, partner)
    return go(request, f"/console/{console.org.slug}/partners?notice=revoked")

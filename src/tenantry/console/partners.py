"""Partners and customers: the organizations that may act here (with the role each acts with; grant,
revoke) and those where this organization's members may act."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from pydantic import ValidationError

from tenantry.auth.policy import Policy
from tenantry.console.forms import field_error, field_errors, text_field
from tenantry.console.pages import Console, ConsoleRoute, confirm_page, console_access
from tenantry.core.partners import revocation, service
from tenantry.core.partners.schemas import PartnerGrant, PartnerLinkOut
from tenantry.core.roles import service as roles
from tenantry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tenantry.i18n import _

router = APIRouter(prefix="/console/{org}/partners", route_class=ConsoleRoute, include_in_schema=False)
LISTED = 200
PartnerRef = Annotated[str, Path(max_length=100)]
_WRITE = Policy("partners:write", impersonation=False)


async def _partners_page(console: Console, status: int = 200, **context: Any) -> Response:
    session = console.session
    partners, _next = await service.page(session, console.org, customers=False, after=None, limit=LISTED)
    customers: list[PartnerLinkOut] = []
    if console.can("partners:act"):
        customers, _next = await service.page(session, console.org, customers=True, after=None, limit=LISTED)
    page = {
        "partners": partners,
        "customers": customers,
        "roles": await roles.list_for_org(session, console.org.id),
        "notice_text": _("Access revoked.") if console.request.query_params.get("notice") == "revoked" else None,
        **context,
    }
    return console.render("partners.html", page, status)


@router.get("")
async def partners_page(console: Console = Depends(console_access(Policy("partners:read")))) -> Response:
    """Partner organizations (who may act here, with which role) and customers (where we may act)."""
    return await _partners_page(console)


@router.post("")
async def grant_partner(console: Console = Depends(console_access(_WRITE))) -> Response:
    """Let a partner organization's members (holding partners:act there) act here with a role."""
    form = await console.form()
    values = {"partner_org": text_field(form, "partner_org", 100), "role": text_field(form, "role", 64)}
    try:
        await service.grant(console.session, console.access.actor, console.org, PartnerGrant(**values))
    except (ValidationError, InvalidInput) as error:
        return await _partners_page(console, 400, errors=field_errors(error), values=values)
    except (Conflict, NotFound, PermissionDenied) as error:
        errors = {"partner_org": field_error("partner_org", _partner_refusal(error))}
        return await _partners_page(console, 409, errors=errors, values=values)
    return console.go(f"/console/{console.org.slug}/partners")


def _partner_refusal(error: Conflict | NotFound | PermissionDenied) -> str:
    if isinstance(error, Conflict):
        return _("this organization is already a partner; revoke its access to change its role")
    if isinstance(error, NotFound):
        return _("there is no such organization")
    return _("you may not grant this role")


@router.get("/{partner}/revoke")
async def confirm_revoke(partner: PartnerRef, console: Console = Depends(console_access(_WRITE))) -> Response:
    """Ask before revoking a partner's access: the button on this page does it."""
    base = f"/console/{console.org.slug}/partners"
    return confirm_page(
        console,
        heading=_("Revoke the access of %(partner)s") % {"partner": partner},
        question=_("The members of %(partner)s stop acting in %(org)s from their next request on.")
        % {"partner": partner, "org": console.org.name},
        action=f"{base}/{partner}/revoke",
        button=_("Revoke access"),
        back=base,
    )


@router.post("/{partner}/revoke")
async def revoke_partner(partner: PartnerRef, console: Console = Depends(console_access(_WRITE))) -> Response:
    """Revoke a partner organization's access."""
    await revocation.revoke(console.session, console.access.actor, console.org, partner)
    return console.go(f"/console/{console.org.slug}/partners?notice=revoked")

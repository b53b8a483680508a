"""``/console``: to the viewer's organization, or a chooser when they have several; platform admins see
every organization and create new ones."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.policy import Policy, caller_actor
from tenantry.auth.principal import Principal
from tenantry.console.forms import SLUG_TAKEN, field_error, field_errors, text_field
from tenantry.console.pages import ConsoleRoute, checked_form, go, render, viewer
from tenantry.core.orgs import service as orgs
from tenantry.core.orgs.models import Organization
from tenantry.core.orgs.schemas import OrgCreate
from tenantry.errors import Conflict
from tenantry.i18n import _
from tenantry.runtime import get_session

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
CHOOSER_LIMIT = 200
_CREATE_ORG = Policy(platform_admin=True, impersonation=False)


async def _visible(session: AsyncSession, principal: Principal) -> list[Organization]:
    assert principal.user is not None
    member_id = None if principal.platform_admin else principal.user.id
    return await orgs.visible_page(session, bound_to=None, member_id=member_id, after=None, limit=CHOOSER_LIMIT)


async def _chooser(
    request: Request, session: AsyncSession, principal: Principal, status: int = 200, **context: object
) -> Response:
    page = {
        "orgs": await _visible(session, principal),
        "platform_admin": principal.platform_admin,
        "viewer": principal.user,
        **context,
    }
    return render(request, "chooser.html", page, status)


@router.get("")
async def console_home(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """The viewer's organization's members, or the chooser (several organizations, or a platform admin)."""
    principal = await viewer(request, session)
    found = await _visible(session, principal)
    if len(found) == 1 and not principal.platform_admin:
        return go(request, f"/console/{found[0].slug}/members")
    return await _chooser(request, session, principal)


@router.post("/orgs")
async def create_org(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """Create an organization (platform admins); the creator becomes its owner."""
    principal = await viewer(request, session)
    actor = caller_actor(request, _CREATE_ORG, principal)
    form = await checked_form(request)
    values = {name: text_field(form, name, 200) for name in ("name", "slug")}
    if not values["name"]:
        errors = {"name": field_error("name", _("enter the organization's name"))}
        return await _chooser(request, session, principal, 400, errors=errors, values=values)
    try:
        org = await orgs.create(session, actor, OrgCreate(**values), principal.user)
    except ValidationError as error:
        return await _chooser(request, session, principal, 400, errors=field_errors(error), values=values)
    except Conflict:
        errors = {"slug": field_error("slug", _(SLUG_TAKEN))}
        return await _chooser(request, session, principal, 409, errors=errors, values=values)
    return go(request, f"/console/{org.slug}/members")

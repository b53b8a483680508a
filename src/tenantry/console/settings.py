"""Settings: name, slug and description, the MFA requirement, SCIM's base URL, and the organization's
webhooks and OAuth clients (counted, managed over the API)."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry import scim
from tenantry.auth.policy import Policy
from tenantry.console.pages import (
    SLUG_TAKEN,
    Console,
    ConsoleRoute,
    checked_form,
    console_access,
    field_error,
    field_errors,
    go,
    render,
)
from tenantry.core.clients import service as oauth
from tenantry.core.orgs import service as orgs
from tenantry.core.orgs.models import MFA_REQUIRED
from tenantry.core.orgs.schemas import OrgUpdate
from tenantry.core.webhooks import service as webhook_endpoints
from tenantry.errors import Conflict, InvalidInput
from tenantry.i18n import _
from tenantry.runtime import get_runtime, get_session

router = APIRouter(prefix="/console/{org}/settings", route_class=ConsoleRoute, include_in_schema=False)
LISTED = 100


async def _settings_page(
    request: Request, session: AsyncSession, console: Console, status: int = 200, **context: Any
) -> Response:
    org = console.org
    webhooks = None
    if console.can("webhooks:write"):
        webhooks = await webhook_endpoints.page(session, webhook_endpoints.Owner(org.id), after=None, limit=LISTED)
    clients = None
    if console.can("clients:write"):
        clients = [oauth.client_out(found) for found in (await oauth.page(session, org, after=None, limit=LISTED))[0]]
    page = {
        "values": {
            "name": org.name,
            "slug": org.slug,
            "description": org.description or "",
            "mfa_required": bool(org.settings.get(MFA_REQUIRED)),
        },
        "webhooks": webhooks,
        "clients": clients,
        "scim_url": f"{get_runtime(request).settings.base_url.rstrip('/')}{scim.PREFIX}",
        "errors": {},
        "notice_text": _("Settings saved.") if request.query_params.get("notice") == "saved" else None,
        **context,
    }
    return render(request, "settings.html", page, status, console)


@router.get("")
async def settings_page(
    request: Request,
    console: Console = Depends(console_access(Policy("orgs:update", impersonation=False))),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """The organization's name, slug, description and MFA requirement; SCIM's base URL; its webhooks and
    OAuth clients (for those who may manage them)."""
    return await _settings_page(request, session, console)


@router.post("")
async def save_settings(
    request: Request,
    console: Console = Depends(console_access(Policy("orgs:update", impersonation=False))),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Save the name, slug, description and MFA requirement."""
    form = await checked_form(request)
    values: dict[str, Any] = {
        name: value.strip()[:2000] if isinstance(value := form.get(name), str) else ""
        for name in ("name", "slug", "description")
    }
    values["mfa_required"] = form.get("mfa_required") == "on"
    if not values["name"]:
        return await _settings_page(
            request, session, console, 400, errors={"name": field_error("name", _("enter a name"))}, values=values
        )
    try:
        org = await orgs.update_org(session, console.access.actor, console.org, OrgUpdate(**values))
    except (ValidationError, InvalidInput) as error:
        return await _settings_page(request, session, console, 400, errors=field_errors(error), values=values)
    except Conflict:
        return await _settings_page(
            request, session, console, 409, errors={"slug": field_error("slug", _(SLUG_TAKEN))}, values=values
        )
    return go(request, f"/console/{org.slug}/settings?notice=saved")

"""Roles: the built-in and the organization's own, and a permission picker (Tenantry's and the
application's) to create a custom role."""

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from tenantry.auth.policy import Policy
from tenantry.console.forms import field_error, field_errors, translated
from tenantry.console.pages import Console, ConsoleRoute, console_access
from tenantry.core.roles import app_permissions
from tenantry.core.roles import service as roles
from tenantry.core.roles.permissions import PERMISSIONS
from tenantry.core.roles.schemas import RoleCreate
from tenantry.errors import Conflict, InvalidInput, PermissionDenied
from tenantry.i18n import _

router = APIRouter(prefix="/console/{org}/roles", route_class=ConsoleRoute, include_in_schema=False)


async def _roles_page(console: Console, status: int = 200, **context: Any) -> Response:
    session = console.session
    registered = await app_permissions.all_registered(session)
    page = {
        "roles": [roles.role_out(role) for role in await roles.list_for_org(session, console.org.id)],
        "own_permissions": PERMISSIONS,
        "app_permissions": {permission.name: permission.description for permission in registered},
        "values": {"permissions": []},
        "notice_text": _("Role created.") if console.request.query_params.get("notice") == "created" else None,
        **context,
    }
    return console.render("roles.html", page, status)


@router.get("")
async def roles_page(console: Console = Depends(console_access(Policy("roles:read", partner=True)))) -> Response:
    """The built-in roles and the organization's own, with their permissions."""
    return await _roles_page(console)


@router.post("")
async def create_role(
    console: Console = Depends(console_access(Policy("roles:write", impersonation=False))),
) -> Response:
    """Create a custom role from the permissions picked (none the viewer does not hold)."""
    form = await console.form()
    values: dict[str, Any] = {
        name: value.strip()[:1000] if isinstance(value := form.get(name), str) else ""
        for name in ("name", "description")
    }
    values["permissions"] = [value for value in form.getlist("permissions") if isinstance(value, str)][:200]
    try:
        await roles.create(console.session, console.access.actor, console.org, RoleCreate(**values))
    except (ValidationError, InvalidInput) as error:
        return await _roles_page(console, 400, errors=field_errors(error), values=values)
    except (Conflict, PermissionDenied) as error:
        name = "name" if isinstance(error, Conflict) else "permissions"
        problem = _("a role with this name already exists") if isinstance(error, Conflict) else translated(error.detail)
        errors = {name: field_error(name, problem)}
        return await _roles_page(console, 409, errors=errors, values=values)
    return console.go(f"/console/{console.org.slug}/roles?notice=created")

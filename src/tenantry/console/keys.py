"""API keys: create (the key shown once, with a copy button), list by prefix, revoke (confirmed)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import ValidationError

from tenantry.auth.policy import Policy
from tenantry.console.forms import field_errors
from tenantry.console.pages import Console, ConsoleRoute, confirm_page, console_access
from tenantry.core.apikeys import service as api_keys
from tenantry.core.apikeys.schemas import ApiKeyCreate
from tenantry.core.roles import service as roles
from tenantry.db.ids import is_id
from tenantry.errors import InvalidInput
from tenantry.i18n import _

router = APIRouter(prefix="/console/{org}/api-keys", route_class=ConsoleRoute, include_in_schema=False)
PAGE_SIZE = 50
KeyRef = Annotated[str, Path(description="API key id", max_length=64)]
_WRITE = Policy("api_keys:write", impersonation=False)


async def _keys_page(console: Console, status: int = 200, **context: Any) -> Response:
    after = console.request.query_params.get("after", "")
    session = console.session
    keys, next_after = await api_keys.page(session, console.org, after=after if is_id(after) else None, limit=PAGE_SIZE)
    page = {
        "keys": [api_keys.key_out(key) for key in keys],
        "next_after": next_after,
        "roles": await roles.list_for_org(session, console.org.id),
        "notice_text": _("The key is revoked.") if console.request.query_params.get("notice") == "revoked" else None,
        **context,
    }
    return console.render("api_keys.html", page, status)


@router.get("")
async def keys_page(
    console: Console = Depends(console_access(Policy("api_keys:read"))),
    after: Annotated[str, Query(max_length=24)] = "",
) -> Response:
    """The organization's live API keys, by name and prefix (never the keys themselves)."""
    return await _keys_page(console)


@router.post("")
async def create_key(console: Console = Depends(console_access(_WRITE))) -> Response:
    """Create a key with the roles chosen; the key is on this answer only, with a copy button."""
    form = await console.form()
    name = form.get("name")
    values = {"name": name.strip()[:200] if isinstance(name, str) else ""}
    chosen = [value for value in form.getlist("roles") if isinstance(value, str)][:50]
    try:
        created = await api_keys.create(
            console.session, console.access.actor, console.org, ApiKeyCreate(name=values["name"], roles=chosen)
        )
    except (ValidationError, InvalidInput) as error:
        return await _keys_page(console, 400, errors=field_errors(error), values=values)
    return await _keys_page(console, 201, created_key=created.key, created_name=created.api_key.name)


@router.get("/{key}/revoke")
async def confirm_revoke(key: KeyRef, console: Console = Depends(console_access(_WRITE))) -> Response:
    """Ask before revoking a key: the button on this page does it."""
    found = api_keys.key_out(await api_keys.get(console.session, console.org, key))
    base = f"/console/{console.org.slug}/api-keys"
    return confirm_page(
        console,
        heading=_("Revoke the key %(name)s") % {"name": found.name},
        question=_("Revoke %(name)s (%(prefix)s…)? Requests with it are refused from the next one on.")
        % {"name": found.name, "prefix": found.prefix},
        action=f"{base}/{found.id}/revoke",
        button=_("Revoke"),
        back=base,
    )


@router.post("/{key}/revoke")
async def revoke_key(key: KeyRef, console: Console = Depends(console_access(_WRITE))) -> Response:
    """Revoke a key; it is refused from the next request on."""
    await api_keys.revoke(console.session, console.access.actor, console.org, key)
    return console.go(f"/console/{console.org.slug}/api-keys?notice=revoked")

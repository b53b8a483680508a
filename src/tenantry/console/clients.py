"""OAuth clients, from the settings page: register one of the organization's own (its secret shown once,
with a copy button), rotate a confidential client's secret, delete one (confirmed). Each under the policy of
the API route doing the same (``clients:write``)."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from pydantic import ValidationError

from tenantry.auth.policy import Policy
from tenantry.console.forms import field_error, field_errors, text_field
from tenantry.console.pages import Console, ConsoleRoute, confirm_page, console_access
from tenantry.console.settings import settings_page
from tenantry.core.clients import service
from tenantry.core.clients.schemas import ClientCreate
from tenantry.errors import InvalidInput
from tenantry.i18n import _

router = APIRouter(prefix="/console/{org}/settings/clients", route_class=ConsoleRoute, include_in_schema=False)
ClientRef = Annotated[str, Path(description="The client's client_id", max_length=64)]
_WRITE = Policy("clients:write", impersonation=False)
_NAMES = {"name": "client_name", "type": "client_type"}
"""The form's fields, named apart from the settings form's ``name``."""


@router.post("")
async def create_client(console: Console = Depends(console_access(_WRITE))) -> Response:
    """Register one of the organization's own clients; a confidential client's secret is on this answer only."""
    form = await console.form()
    values = {
        "client_name": text_field(form, "client_name", 200),
        "client_type": text_field(form, "client_type", 20),
        "redirect_uris": text_field(form, "redirect_uris", 50_000),
    }
    uris = [line.strip() for line in values["redirect_uris"].splitlines() if line.strip()]
    missing: dict[str, str] = {}
    if not values["client_name"]:
        missing["client_name"] = field_error("client_name", _("enter a name"))
    if not uris:
        missing["redirect_uris"] = field_error("redirect_uris", _("enter at least one address"))
    if missing:
        return await settings_page(console, 400, errors=missing, values=values)
    try:
        payload = ClientCreate.model_validate(
            {"name": values["client_name"], "type": values["client_type"], "redirect_uris": uris}
        )
        created = await service.create(console.session, console.access.actor, console.org, payload)
    except (ValidationError, InvalidInput) as error:
        errors = field_errors(error, _NAMES)
        return await settings_page(console, 400, errors=errors, values=values)
    client = service.client_out(created.client)
    return await settings_page(console, 201, new_client=client, client_secret=created.secret)


@router.post("/{client_id}/secret")
async def rotate_secret(client_id: ClientRef, console: Console = Depends(console_access(_WRITE))) -> Response:
    """A new secret for a confidential client, on this answer only; the old ones keep working a while."""
    grace = timedelta(seconds=console.runtime.settings.client_secret_grace_seconds)
    secret, until = await service.rotate_secret(console.session, console.access.actor, console.org, client_id, grace)
    client = service.client_out(await service.get(console.session, console.org, client_id))
    return await settings_page(console, rotated_client=client, client_secret=secret, old_until=until)


@router.get("/{client_id}/delete")
async def confirm_delete(client_id: ClientRef, console: Console = Depends(console_access(_WRITE))) -> Response:
    """Ask before deleting a client: the button on this page does it."""
    client = await service.get(console.session, console.org, client_id)
    named = {"name": client.name}
    return confirm_page(
        console,
        heading=_("Delete the client %(name)s") % named,
        question=_("Delete %(name)s? Its secrets and refresh tokens stop working at once.") % named,
        action=f"/console/{console.org.slug}/settings/clients/{client.id}/delete",
        button=_("Delete client"),
        back=f"/console/{console.org.slug}/settings",
    )


@router.post("/{client_id}/delete")
async def delete_client(client_id: ClientRef, console: Console = Depends(console_access(_WRITE))) -> Response:
    """Delete one of the organization's clients; its refresh tokens stop working."""
    await service.delete(console.session, console.access.actor, console.org, client_id)
    return console.go(f"/console/{console.org.slug}/settings?notice=client-deleted")

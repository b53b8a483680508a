"""Webhooks, from the settings page: create one (its signing secret shown once, with a copy button), enable or
disable it, rotate its secret, delete it (confirmed), and read its recent deliveries and send one again.
Each under the policy of the API route doing the same (``webhooks:write``)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from pydantic import ValidationError

from tenantry.auth.policy import Policy
from tenantry.console.forms import field_error, field_errors, text_field
from tenantry.console.pages import Console, ConsoleRoute, confirm_page, console_access
from tenantry.console.settings import settings_page
from tenantry.core.webhooks import service
from tenantry.core.webhooks.models import WebhookEndpoint
from tenantry.core.webhooks.schemas import WebhookCreate, WebhookOut, WebhookUpdate
from tenantry.errors import InvalidInput
from tenantry.i18n import N_, _

router = APIRouter(prefix="/console/{org}/settings/webhooks", route_class=ConsoleRoute, include_in_schema=False)
WebhookRef = Annotated[str, Path(description="Webhook id", max_length=64)]
DeliveryRef = Annotated[str, Path(description="Delivery attempt id", max_length=64)]
RECENT_DELIVERIES = 20
_READ = Policy("webhooks:write")
_WRITE = Policy("webhooks:write", impersonation=False)
NOTICES = {
    "enabled": N_("The webhook is enabled: events are delivered to it again."),
    "disabled": N_("The webhook is disabled: no events are delivered to it."),
    "redelivered": N_("The event is on its way again."),
}
EVERY_EVENT = "*"


def _owner(console: Console) -> service.Owner:
    return service.Owner(console.org.id, console.runtime.settings.webhook_allow_private_urls)


def _base(console: Console) -> str:
    return f"/console/{console.org.slug}/settings/webhooks"


async def _webhook_page(console: Console, endpoint: WebhookEndpoint, **context: Any) -> Response:
    owner = service.Owner(console.org.id)
    notice = NOTICES.get(console.request.query_params.get("notice", ""))
    page = {
        "webhook": WebhookOut.model_validate(endpoint),
        "deliveries": await service.deliveries(
            console.session, owner, endpoint.id, after=None, limit=RECENT_DELIVERIES
        ),
        "notice_text": _(notice) if notice else None,
        **context,
    }
    return console.render("webhook.html", page)


@router.post("")
async def create_webhook(console: Console = Depends(console_access(_WRITE))) -> Response:
    """Create a webhook for the events chosen; its signing secret is on this answer only, with a copy button."""
    form = await console.form()
    events = [value for value in form.getlist("events") if isinstance(value, str)][:100]
    values = {"webhook_url": text_field(form, "webhook_url", 2048), "events": events}
    names = {"url": "webhook_url"}
    if not events:
        errors = {"events": field_error("events", _("choose at least one event"))}
        return await settings_page(console, 400, errors=errors, values=values)
    try:
        payload = WebhookCreate(url=values["webhook_url"], events=[EVERY_EVENT] if EVERY_EVENT in events else events)
        endpoint, secret = await service.create(
            console.session, console.access.actor, console.runtime.settings, _owner(console), payload
        )
    except (ValidationError, InvalidInput) as error:
        return await settings_page(console, 400, errors=field_errors(error, names), values=values)
    return await settings_page(console, 201, new_webhook=endpoint, webhook_secret=secret)


@router.get("/{webhook}")
async def show_webhook(webhook: WebhookRef, console: Console = Depends(console_access(_READ))) -> Response:
    """One webhook: its events and state, what may be done to it, and its recent deliveries (newest first)."""
    return await _webhook_page(console, await service.get(console.session, service.Owner(console.org.id), webhook))


async def _switched(console: Console, webhook: str, enabled: bool) -> Response:
    await service.update(
        console.session, console.access.actor, service.Owner(console.org.id), webhook, WebhookUpdate(enabled=enabled)
    )
    return console.go(f"{_base(console)}/{webhook}?notice={'enabled' if enabled else 'disabled'}")


@router.post("/{webhook}/enable")
async def enable_webhook(webhook: WebhookRef, console: Console = Depends(console_access(_WRITE))) -> Response:
    """Deliver events to the webhook again (also one Tenantry disabled for failing)."""
    return await _switched(console, webhook, True)


@router.post("/{webhook}/disable")
async def disable_webhook(webhook: WebhookRef, console: Console = Depends(console_access(_WRITE))) -> Response:
    """Stop delivering events to the webhook (it is kept, with its secret)."""
    return await _switched(console, webhook, False)


@router.post("/{webhook}/rotate-secret")
async def rotate_secret(webhook: WebhookRef, console: Console = Depends(console_access(_WRITE))) -> Response:
    """A new signing secret, on this answer only; the old one also signs for 24 hours."""
    endpoint, secret = await service.rotate_secret(
        console.session, console.access.actor, console.runtime.settings, service.Owner(console.org.id), webhook
    )
    return await _webhook_page(console, endpoint, webhook_secret=secret)


@router.get("/{webhook}/delete")
async def confirm_delete(webhook: WebhookRef, console: Console = Depends(console_access(_WRITE))) -> Response:
    """Ask before deleting a webhook: the button on this page does it."""
    endpoint = await service.get(console.session, service.Owner(console.org.id), webhook)
    return confirm_page(
        console,
        heading=_("Delete the webhook %(url)s") % {"url": endpoint.url},
        question=_("Delete the webhook %(url)s? Events waiting for it are dropped and none are sent to it again.")
        % {"url": endpoint.url},
        action=f"{_base(console)}/{endpoint.id}/delete",
        button=_("Delete webhook"),
        back=f"{_base(console)}/{endpoint.id}",
    )


@router.post("/{webhook}/delete")
async def delete_webhook(webhook: WebhookRef, console: Console = Depends(console_access(_WRITE))) -> Response:
    """Delete a webhook; deliveries waiting for it are dropped."""
    await service.delete(console.session, console.access.actor, service.Owner(console.org.id), webhook)
    return console.go(f"/console/{console.org.slug}/settings?notice=webhook-deleted")


@router.post("/{webhook}/deliveries/{delivery}/redeliver")
async def redeliver(
    webhook: WebhookRef, delivery: DeliveryRef, console: Console = Depends(console_access(_WRITE))
) -> Response:
    """Send the event of this attempt to the webhook again (same `webhook-id`), from the outbox."""
    await service.redeliver(console.session, console.access.actor, service.Owner(console.org.id), webhook, delivery)
    return console.go(f"{_base(console)}/{webhook}?notice=redelivered")

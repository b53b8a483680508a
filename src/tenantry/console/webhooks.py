"""Webhooks, from the settings page: create one (its signing secret shown once, with a copy button), enable or
disable it, rotate its secret, delete it (confirmed), and read its recent deliveries and send one again.
Each under the policy of the API route doing the same (``webhooks:write``)."""

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
    confirm_page,
    console_access,
    field_error,
    field_errors,
    go,
    render,
    text_field,
)
from tenantry.console.settings import settings_page
from tenantry.core.webhooks import service
from tenantry.core.webhooks.models import WebhookEndpoint
from tenantry.core.webhooks.schemas import WebhookCreate, WebhookOut, WebhookUpdate
from tenantry.errors import InvalidInput
from tenantry.i18n import N_, _
from tenantry.runtime import Runtime, get_runtime, get_session

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


def _owner(console: Console, runtime: Runtime) -> service.Owner:
    return service.Owner(console.org.id, runtime.settings.webhook_allow_private_urls)


def _base(console: Console) -> str:
    return f"/console/{console.org.slug}/settings/webhooks"


async def _webhook_page(
    request: Request, session: AsyncSession, console: Console, endpoint: WebhookEndpoint, **context: Any
) -> Response:
    owner = service.Owner(console.org.id)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    page = {
        "webhook": WebhookOut.model_validate(endpoint),
        "deliveries": await service.deliveries(session, owner, endpoint.id, after=None, limit=RECENT_DELIVERIES),
        "notice_text": _(notice) if notice else None,
        **context,
    }
    return render(request, "webhook.html", page, console=console)


@router.post("")
async def create_webhook(
    request: Request,
    console: Console = Depends(console_access(_WRITE)),
    session: AsyncSession = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Create a webhook for the events chosen; its signing secret is on this answer only, with a copy button."""
    form = await checked_form(request)
    events = [value for value in form.getlist("events") if isinstance(value, str)][:100]
    values = {"webhook_url": text_field(form, "webhook_url", 2048), "events": events}
    names = {"url": "webhook_url"}
    if not events:
        errors = {"events": field_error("events", _("choose at least one event"))}
        return await settings_page(request, session, console, 400, errors=errors, values=values)
    try:
        payload = WebhookCreate(url=values["webhook_url"], events=[EVERY_EVENT] if EVERY_EVENT in events else events)
        endpoint, secret = await service.create(
            session, console.access.actor, runtime.settings, _owner(console, runtime), payload
        )
    except (ValidationError, InvalidInput) as error:
        return await settings_page(request, session, console, 400, errors=field_errors(error, names), values=values)
    return await settings_page(request, session, console, 201, new_webhook=endpoint, webhook_secret=secret)


@router.get("/{webhook}")
async def show_webhook(
    request: Request,
    webhook: WebhookRef,
    console: Console = Depends(console_access(_READ)),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """One webhook: its events and state, what may be done to it, and its recent deliveries (newest first)."""
    return await _webhook_page(
        request, session, console, await service.get(session, service.Owner(console.org.id), webhook)
    )


async def _switched(request: Request, session: AsyncSession, console: Console, webhook: str, enabled: bool) -> Response:
    await service.update(
        session, console.access.actor, service.Owner(console.org.id), webhook, WebhookUpdate(enabled=enabled)
    )
    return go(request, f"{_base(console)}/{webhook}?notice={'enabled' if enabled else 'disabled'}")


@router.post("/{webhook}/enable")
async def enable_webhook(
    request: Request,
    webhook: WebhookRef,
    console: Console = Depends(console_access(_WRITE)),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Deliver events to the webhook again (also one Tenantry disabled for failing)."""
    return await _switched(request, session, console, webhook, True)


@router.post("/{webhook}/disable")
async def disable_webhook(
    request: Request,
    webhook: WebhookRef,
    console: Console = Depends(console_access(_WRITE)),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Stop delivering events to the webhook (it is kept, with its secret)."""
    return await _switched(request, session, console, webhook, False)


@router.post("/{webhook}/rotate-secret")
async def rotate_secret(
    request: Request,
    webhook: WebhookRef,
    console: Console = Depends(console_access(_WRITE)),
    session: AsyncSession = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """A new signing secret, on this answer only; the old one also signs for 24 hours."""
    endpoint, secret = await service.rotate_secret(
        session, console.access.actor, runtime.settings, service.Owner(console.org.id), webhook
    )
    return await _webhook_page(request, session, console, endpoint, webhook_secret=secret)


@router.get("/{webhook}/delete")
async def confirm_delete(
    request: Request,
    webhook: WebhookRef,
    console: Console = Depends(console_access(_WRITE)),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Ask before deleting a webhook: the button on this page does it."""
    endpoint = await service.get(session, service.Owner(console.org.id), webhook)
    return confirm_page(
        request,
        console,
        heading=_("Delete the webhook %(url)s") % {"url": endpoint.url},
        question=_("Delete the webhook %(url)s? Events waiting for it are dropped and none are sent to it again.")
        % {"url": endpoint.url},
        action=f"{_base(console)}/{endpoint.id}/delete",
        button=_("Delete webhook"),
        back=f"{_base(console)}/{endpoint.id}",
    )


@router.post("/{webhook}/delete")
async def delete_webhook(
    request: Request,
    webhook: WebhookRef,
    console: Console = Depends(console_access(_WRITE)),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Delete a webhook; deliveries waiting for it are dropped."""
    await service.delete(session, console.access.actor, service.Owner(console.org.id), webhook)
    return go(request, f"/console/{console.org.slug}/settings?notice=webhook-deleted")


@router.post("/{webhook}/deliveries/{delivery}/redeliver")
async def redeliver(
    request: Request,
    webhook: WebhookRef,
    delivery: DeliveryRef,
    console: Console = Depends(console_access(_WRITE)),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Send the event of this attempt to the webhook again (same `webhook-id`), from the outbox."""
    await service.redeliver(session, console.access.actor, service.Owner(console.org.id), webhook, delivery)
    return go(request, f"{_base(console)}/{webhook}?notice=redelivered")

"""What a delivery attempt leaves behind: its record, the endpoint's failure streak, and the disabling
of an endpoint that has failed for days (audited, and its organization's owners are told by email)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import SYSTEM
from tenantry.core.audit.models import AuditEvent
from tenantry.core.memberships import repository as memberships
from tenantry.core.outbox import service as outbox
from tenantry.core.users.models import User
from tenantry.core.webhooks.models import FAILED, SUCCEEDED, WebhookDelivery, WebhookEndpoint
from tenantry.core.webhooks.service import audit
from tenantry.mail.compose import compose
from tenantry.templating import Templates

DISABLE_AFTER = timedelta(days=3)
"""An endpoint failing every attempt for this long is disabled."""
_ERROR_MAX_CHARS = 500


@dataclass(frozen=True)
class Outcome:
    response_status: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    refused: bool = False
    """The address was not allowed (nothing was sent)."""

    @property
    def succeeded(self) -> bool:
        return self.error is None and self.response_status is not None and 200 <= self.response_status < 300


async def target(session: AsyncSession, endpoint_id: str, event_id: str) -> tuple[WebhookEndpoint, AuditEvent] | None:
    """The endpoint and the event of a delivery; None when either is gone."""
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    event = await session.get(AuditEvent, event_id)
    if endpoint is None or event is None or event.event_type is None:
        return None
    return endpoint, event


async def settle(
    session: AsyncSession, templates: Templates, endpoint_id: str, event_id: str, outcome: Outcome, now: datetime
) -> None:
    """Record the attempt; a success ends the endpoint's failure streak, a failure may disable it."""
    error = outcome.error[:_ERROR_MAX_CHARS] if outcome.error else None
    status = SUCCEEDED if outcome.succeeded else FAILED
    session.add(
        WebhookDelivery(
            endpoint_id=endpoint_id,
            event_id=event_id,
            status=status,
            response_status=outcome.response_status,
            latency_ms=outcome.latency_ms,
            error=error,
            created_at=now,
        )
    )
    endpoint = await session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
    if endpoint is None:  # deleted meanwhile; the attempt goes with it
        return
    if outcome.succeeded:
        endpoint.failing_since = None
    elif endpoint.failing_since is None:
        endpoint.failing_since = now
    elif endpoint.enabled and now - endpoint.failing_since >= DISABLE_AFTER:
        endpoint.enabled = False
        endpoint.disabled_reason = f"every delivery failed for {DISABLE_AFTER.days} days"
        # Tenantry's own change, audited as a user's PATCH is (no acting user: ``SYSTEM``).
        audit(session, SYSTEM, "webhook.disabled", endpoint, details={"reason": endpoint.disabled_reason})
        await _tell_owners(session, templates, endpoint)
    await session.flush()


async def _tell_owners(session: AsyncSession, templates: Templates, endpoint: WebhookEndpoint) -> None:
    if endpoint.org_id is None:
        return  # a platform endpoint: its disabling is in the platform's audit log and its `disabled_reason`
    owner_ids = await memberships.active_owner_ids(session, endpoint.org_id)
    for owner in await session.scalars(select(User).where(User.id.in_(owner_ids))):
        context = {"endpoint": endpoint, "days": DISABLE_AFTER.days}
        email = compose(templates, "webhook_disabled", context, lang=owner.locale)
        outbox.enqueue_email(
            session,
            to=owner.email,
            subject=email.subject,
            text=email.text,
            html=email.html,
            links=[],
            org_id=endpoint.org_id,
        )

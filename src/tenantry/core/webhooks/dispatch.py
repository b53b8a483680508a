"""Fan-out: each new catalog event becomes one outbox message per enabled endpoint subscribed to it.

Events are marked ``dispatch_pending`` when written (``core.audit.models``); the worker hands them out
here in batches, in one transaction that also clears the mark and numbers them for the feeds
(``feed_position``, after the highest so far). Two workers taking the same batch cannot both commit: the
second one's clearing UPDATE finds fewer rows still marked (or its positions are taken) and it rolls its
batch back. The unique index on the positions makes sure that two workers dispatching at once never both
commit the same ones.
An endpoint receives only events that happened after it was created.
"""

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.audit.models import AuditEvent
from tenantry.core.webhooks.models import WebhookEndpoint
from tenantry.core.webhooks.service import enqueue


class DispatchRace(Exception):
    """Another worker dispatched some of this batch first; roll it back and read the next."""


def _wants(endpoint: WebhookEndpoint, event: AuditEvent) -> bool:
    if endpoint.org_id is not None and endpoint.org_id != event.org_id:
        return False
    if endpoint.created_at > event.created_at:
        return False
    return "*" in endpoint.event_types or event.event_type in endpoint.event_types


OLDEST_PENDING = (
    select(AuditEvent).where(AuditEvent.dispatch_pending.is_not(None)).order_by(AuditEvent.created_at, AuditEvent.id)
)
"""The events still to dispatch, oldest first: read from the partial index that holds them in this order
(``ix_audit_events_dispatch_pending``), not past every event already dispatched."""


async def _endpoints_for(session: AsyncSession, events: list[AuditEvent]) -> list[WebhookEndpoint]:
    """The enabled endpoints that may want some of ``events``: the platform's and those of the organizations the
    events happened in, not every organization's (one organization's many endpoints cost the others nothing)."""
    orgs = sorted({event.org_id for event in events if event.org_id is not None})
    owners = or_(WebhookEndpoint.org_id.is_(None), WebhookEndpoint.org_id.in_(orgs))
    return list(await session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True), owners)))


async def dispatch_batch(session: AsyncSession, limit: int) -> int:
    """Hand out up to ``limit`` pending events; how many were handed out (0: none was pending)."""
    events = list(await session.scalars(OLDEST_PENDING.limit(limit)))
    if not events:
        return 0
    endpoints = await _endpoints_for(session, events)
    for event in events:
        for endpoint in endpoints:
            if _wants(endpoint, event):
                enqueue(session, endpoint, event.id)
    last = await session.scalar(select(func.max(AuditEvent.feed_position))) or 0
    for position, event in enumerate(events, start=last + 1):
        event.feed_position = position
    try:
        await session.flush()
    except IntegrityError:
        raise DispatchRace() from None
    ids = [event.id for event in events]
    cleared = await session.execute(
        update(AuditEvent)
        .where(AuditEvent.id.in_(ids), AuditEvent.dispatch_pending.is_not(None))
        .values(dispatch_pending=None)
        .execution_options(synchronize_session=False)
    )
    if cleared.rowcount != len(ids):  # type: ignore[attr-defined]
        raise DispatchRace()
    return len(ids)


async def has_pending_events(session: AsyncSession) -> bool:
    """Whether any event waits for dispatch (a read, so an idle worker takes no write lock)."""
    pending = select(AuditEvent.id).where(AuditEvent.dispatch_pending.is_not(None)).limit(1)
    return await session.scalar(pending) is not None

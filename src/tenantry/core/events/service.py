"""Reading the event feeds (events are written by ``core.audit.service.record``: see ``catalog``)."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.audit.models import AuditEvent
from tenantry.core.events import repository
from tenantry.core.events.catalog import EVENT_TYPES
from tenantry.core.events.schemas import EventOut, EventPage
from tenantry.errors import FieldError, InvalidInput


async def feed(
    session: AsyncSession, *, org_id: str | None, types: list[str], after: str | None, limit: int
) -> EventPage:
    """One page of the feed of ``org_id`` (None: the platform's, every organization and account-wide)."""
    unknown = sorted(set(types) - EVENT_TYPES)
    if unknown:
        raise InvalidInput([FieldError("type", f"not an event type: {', '.join(unknown)}")])
    if after is not None:
        anchor = select(AuditEvent.id).where(AuditEvent.id == after, AuditEvent.feed_position.is_not(None))
        if org_id is not None:
            anchor = anchor.where(AuditEvent.org_id == org_id)
        if await session.scalar(anchor) is None:
            raise InvalidInput([FieldError("after", "is not the id of an event in this feed")])
    events = await repository.page(session, org_id=org_id, types=sorted(set(types)), after=after, limit=limit + 1)
    listed = events[:limit]
    return EventPage(
        items=[EventOut.of(event) for event in listed],
        next_after=listed[-1].id if listed else after,
        has_more=len(events) > limit,
    )

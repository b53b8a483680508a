"""The event feeds: dispatched catalog events in the order they were dispatched, after a given event."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.audit.models import AuditEvent


async def page(
    session: AsyncSession, *, org_id: str | None, types: list[str], after: str | None, limit: int
) -> list[AuditEvent]:
    """Events of ``org_id`` (every organization's, and account-wide ones, when None) of the given types
    (any when empty), by ``feed_position``, after the event ``after``."""
    statement = select(AuditEvent).where(AuditEvent.feed_position.is_not(None))
    if org_id is not None:
        statement = statement.where(AuditEvent.org_id == org_id)
    if types:
        statement = statement.where(AuditEvent.event_type.in_(types))
    if after is not None:
        anchor = select(AuditEvent.feed_position).where(AuditEvent.id == after).scalar_subquery()
        statement = statement.where(AuditEvent.feed_position > anchor)
    return list(await session.scalars(statement.order_by(AuditEvent.feed_position).limit(limit)))

"""The event feeds: catalog events oldest first, continuing after a given event."""

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.audit.models import AuditEvent


async def page(
    session: AsyncSession, *, org_id: str | None, types: list[str], after: str | None, limit: int
) -> list[AuditEvent]:
    """Events of ``org_id`` (every organization's, and account-wide ones, when None) of the given types
    (any when empty), by time then id, after the event ``after``."""
    statement = select(AuditEvent).where(AuditEvent.event_type.is_not(None))
    if org_id is not None:
        statement = statement.where(AuditEvent.org_id == org_id)
    if types:
        statement = statement.where(AuditEvent.event_type.in_(types))
    if after is not None:
        anchor = select(AuditEvent.created_at).where(AuditEvent.id == after).scalar_subquery()
        statement = statement.where(
            or_(AuditEvent.created_at > anchor, and_(AuditEvent.created_at == anchor, AuditEvent.id > after))
        )
    return list(await session.scalars(statement.order_by(AuditEvent.created_at, AuditEvent.id).limit(limit)))

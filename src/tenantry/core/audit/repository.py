from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.audit.models import AuditEvent

_CHUNK = 1000  # ids per IN list: well under SQLite's bound on bound parameters


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor: str | None = None
    """A user (acting or impersonating), an API key or an application (OAuth client)."""
    target: str | None = None
    since: datetime | None = None


async def page(
    session: AsyncSession, org_id: str, where: AuditFilter, *, after: str | None, limit: int, newest_first: bool = False
) -> list[AuditEvent]:
    """The organization's events matching ``where``, oldest (or newest) first: by time, then id (ids order
    only by the second), continuing after the event ``after``."""
    statement = select(AuditEvent).where(AuditEvent.org_id == org_id)
    if where.action is not None:
        statement = statement.where(AuditEvent.action == where.action)
    if where.actor is not None:
        statement = statement.where(
            or_(
                AuditEvent.actor_user_id == where.actor,
                AuditEvent.actor_api_key_id == where.actor,
                AuditEvent.actor_client_id == where.actor,
                AuditEvent.impersonator_id == where.actor,
            )
        )
    if where.target is not None:
        statement = statement.where(AuditEvent.target_id == where.target)
    if where.since is not None:
        statement = statement.where(AuditEvent.created_at >= where.since)
    if after is not None:
        anchor = select(AuditEvent.created_at).where(AuditEvent.id == after).scalar_subquery()
        if newest_first:
            beyond = or_(AuditEvent.created_at < anchor, and_(AuditEvent.created_at == anchor, AuditEvent.id < after))
        else:
            beyond = or_(AuditEvent.created_at > anchor, and_(AuditEvent.created_at == anchor, AuditEvent.id > after))
        statement = statement.where(beyond)
    order = (
        (AuditEvent.created_at.desc(), AuditEvent.id.desc()) if newest_first else (AuditEvent.created_at, AuditEvent.id)
    )
    return list(await session.scalars(statement.order_by(*order).limit(limit)))


def _partner_did(org_id: str, partner_org_id: str, actions: tuple[str, ...]) -> ColumnElement[bool]:
    """Events of ``actions`` a partner organization's members did to a target in ``org_id``, through their link."""
    return and_(
        AuditEvent.org_id == org_id,
        AuditEvent.partner_org_id == partner_org_id,
        AuditEvent.action.in_(actions),
        AuditEvent.target_id.is_not(None),
    )


async def targets_of_partner(
    session: AsyncSession, org_id: str, partner_org_id: str, actions: tuple[str, ...], limit: int, offset: int = 0
) -> list[str]:
    """Ids of what a partner organization's members did ``actions`` to in ``org_id`` (first time first), from the
    ``offset``-th on."""
    first = func.min(AuditEvent.created_at)
    statement = (
        select(AuditEvent.target_id, first)
        .where(_partner_did(org_id, partner_org_id, actions))
        .group_by(AuditEvent.target_id)
        .order_by(first, AuditEvent.target_id)
        .limit(limit)
        .offset(offset)
    )
    return [str(row[0]) for row in await session.execute(statement)]


async def firsts_of_partner(
    session: AsyncSession, org_id: str, partner_org_id: str, actions: tuple[str, ...]
) -> dict[str, datetime]:
    """When a partner organization's members first did one of ``actions`` to each of their targets in ``org_id``."""
    statement = (
        select(AuditEvent.target_id, func.min(AuditEvent.created_at))
        .where(_partner_did(org_id, partner_org_id, actions))
        .group_by(AuditEvent.target_id)
    )
    return {str(target): first for target, first in await session.execute(statement)}


async def targets_by_partners_accounts(
    session: AsyncSession, org_id: str, partner_org_id: str, accounts_by: tuple[str, ...], action: str
) -> list[str]:
    """Ids of what accounts a partner organization's members did ``accounts_by`` to in ``org_id`` did ``action`` to
    there as themselves (naming no partner), first time first."""
    accounts = select(AuditEvent.target_id).where(_partner_did(org_id, partner_org_id, accounts_by))
    first = func.min(AuditEvent.created_at)
    statement = (
        select(AuditEvent.target_id, first)
        .where(
            AuditEvent.org_id == org_id,
            AuditEvent.action == action,
            AuditEvent.partner_org_id.is_(None),
            AuditEvent.actor_user_id.in_(accounts),
            AuditEvent.target_id.is_not(None),
        )
        .group_by(AuditEvent.target_id)
        .order_by(first, AuditEvent.target_id)
    )
    return [str(row[0]) for row in await session.execute(statement)]


async def latest_of_all(session: AsyncSession, target_ids: list[str], action: str) -> dict[str, AuditEvent]:
    """The latest ``action`` done to each of ``target_ids``, in any organization, a thousand targets per statement:
    those that have one, by target id."""
    found: dict[str, AuditEvent] = {}
    for start in range(0, len(target_ids), _CHUNK):
        newest_first = (AuditEvent.created_at.desc(), AuditEvent.id.desc())
        ranked = (
            select(
                AuditEvent.id,
                func.row_number().over(partition_by=AuditEvent.target_id, order_by=newest_first).label("rank"),
            )
            .where(AuditEvent.target_id.in_(target_ids[start : start + _CHUNK]), AuditEvent.action == action)
            .subquery()
        )
        statement = select(AuditEvent).join(ranked, ranked.c.id == AuditEvent.id).where(ranked.c.rank == 1)
        for event in await session.scalars(statement):
            found[str(event.target_id)] = event
    return found

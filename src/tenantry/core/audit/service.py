"""Every change writes an audit event, in the same transaction as the change."""

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit import repository
from tenantry.core.audit.models import AuditEvent
from tenantry.core.audit.repository import AuditFilter as AuditFilter


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    *,
    org_id: str | None,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(AuditEvent(**_fields(actor, action, org_id, target_type, target_id, details)))


def _fields(
    actor: Actor,
    action: str,
    org_id: str | None,
    target_type: str | None,
    target_id: str | None,
    details: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "action": action,
        "actor_user_id": actor.user_id,
        "actor_api_key_id": actor.api_key_id,
        "actor_client_id": actor.client_id,
        "impersonator_id": actor.impersonator_id,
        "partner_org_id": actor.partner_org_id,
        "target_type": target_type,
        "target_id": target_id,
        "request_id": actor.request_id,
        "client_ip": actor.client_ip,
        "details": details or {},
    }


_INSERT = insert(cast(Table, AuditEvent.__table__))
_CHUNK = 1000


async def insert_for_user(
    session: AsyncSession,
    actor: Actor,
    action: str,
    user_id: str,
    *,
    org_ids: Sequence[str | None],
    details: dict[str, Any] | None = None,
) -> None:
    """``record_for_user`` in each of ``org_ids``, written now in one INSERT on the session's connection: the
    same rows (the columns' defaults, ``event_type`` included, run as they do in a flush) without the unit of
    work, for the hot path of a sign-in. Not in a reading session: it would write there."""
    rows = rows_for_user(actor, action, user_id, org_ids=org_ids, details=details)
    if rows:
        await (await session.connection()).execute(_INSERT, rows)


async def insert_for_users(
    session: AsyncSession, actor: Actor, action: str, user_ids: Sequence[str], *, org_id: str | None
) -> None:
    """``record_for_user`` of ``action`` done to each of ``user_ids`` in ``org_id``, written now (``insert_for_user``'s
    way), a thousand rows per statement: what one request does to thousands of accounts (a partner's disabled)."""
    rows = [_fields(actor, action, org_id, "user", user_id, None) for user_id in user_ids]
    for start in range(0, len(rows), _CHUNK):
        await (await session.connection()).execute(_INSERT, rows[start : start + _CHUNK])


def rows_for_user(
    actor: Actor, action: str, user_id: str, *, org_ids: Sequence[str | None], details: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The rows ``insert_for_user`` writes (the columns with defaults left out), for a caller that inserts them."""
    return [_fields(actor, action, org_id, "user", user_id, details) for org_id in org_ids]


async def page(
    session: AsyncSession, org_id: str, where: AuditFilter, *, after: str | None, limit: int, newest_first: bool = False
) -> list[AuditEvent]:
    """The organization's events matching ``where``, oldest (or newest) first, continuing after ``after``."""
    return await repository.page(session, org_id, where, after=after, limit=limit, newest_first=newest_first)


def record_for_user(
    session: AsyncSession,
    actor: Actor,
    action: str,
    user_id: str,
    *,
    org_id: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    """``record`` an action done to the account ``user_id``."""
    record(session, actor, action, org_id=org_id, target_type="user", target_id=user_id, details=details)

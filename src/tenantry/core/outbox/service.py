"""The outbox: messages written with the change that causes them, claimed and settled by workers.

Claims are leases taken with a conditional UPDATE, so any number of workers (in every `tenantry serve`
process and in `tenantry worker`) may poll the same table on SQLite and PostgreSQL alike. A claim may be
narrowed to a lane (conditions on the messages: the emails and jobs, one webhook endpoint's), so that the
worker's lanes claim apart.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CTE, ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.outbox.models import EMAIL, FAILED, PENDING, SENT, OutboxMessage
from tenantry.db.base import utcnow

MAX_RETRY_DELAY_SECONDS = 3_600.0
_ERROR_MAX_CHARS = 2_000


def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    recipient: str | None = None,
    org_id: str | None = None,
    webhook_endpoint_id: str | None = None,
) -> OutboxMessage:
    """Add a message to the session: it is delivered only if the surrounding transaction commits."""
    message = OutboxMessage(
        kind=kind, payload=payload, recipient=recipient, org_id=org_id, webhook_endpoint_id=webhook_endpoint_id
    )
    session.add(message)
    return message


def enqueue_email(
    session: AsyncSession,
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    links: list[str],
    org_id: str | None,
    from_name: str | None = None,
) -> OutboxMessage:
    """Queue an email; ``from_name`` (an org's branding) replaces the display name of the From header."""
    payload: dict[str, Any] = {"to": to, "subject": subject, "text": text, "html": html, "links": links}
    if from_name:
        payload["from_name"] = from_name
    return enqueue(session, EMAIL, payload, recipient=to, org_id=org_id)


_OLDEST_DUE_FIRST = (OutboxMessage.next_attempt_at, OutboxMessage.id)
"""The order of the outbox's indexes among the pending messages of a lane: the oldest due first, read from the
index up to the limit (ordered by id, every due message was read and sorted for each batch)."""


Lane = tuple[ColumnElement[bool], ...]
"""Conditions that pick the messages of one of the worker's lanes (none: every message). A lane's conditions are
columns of an index after ``status`` (``OutboxMessage``): a condition the index does not hold makes every poll
read the messages due that it rules out."""


def _claimable(now: datetime, lane: Lane) -> Any:
    return (
        OutboxMessage.status == PENDING,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
        *lane,
    )


async def due_ids(session: AsyncSession, limit: int, lane: Lane = ()) -> list[str]:
    """Ids of messages (of ``lane``) ready for delivery, oldest first."""
    now = utcnow()
    statement = select(OutboxMessage.id).where(*_claimable(now, lane)).order_by(*_OLDEST_DUE_FIRST).limit(limit)
    return list(await session.scalars(statement))


async def claim_due(session: AsyncSession, limit: int, lease_seconds: float, lane: Lane = ()) -> list[OutboxMessage]:
    """Lease up to ``limit`` messages (of ``lane``) due now to this worker, oldest first, counting an attempt on
    each: one statement, however many. PostgreSQL skips the rows another worker is claiming at the same moment
    rather than wait for them (``SKIP LOCKED``); SQLite has one writer at a time. Each row is checked again as it
    is leased, so a message is leased to one worker at a time.

    The due rows are picked once (a materialized CTE): as ``IN (subquery)``, PostgreSQL ran the subquery again
    for each row it updated, each run skipped the rows just leased and found the next ones, and a claim leased
    every message due, however small its limit."""
    now = utcnow()
    due = (
        select(OutboxMessage.id)
        .where(*_claimable(now, lane))
        .order_by(*_OLDEST_DUE_FIRST)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(select(due.c.id)), *_claimable(now, lane))
        .values(locked_until=now + timedelta(seconds=lease_seconds), attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return sorted(await session.scalars(statement), key=lambda message: (message.next_attempt_at, message.id))


@dataclass(frozen=True)
class DueEndpoint:
    """A webhook endpoint with a message claimable now: its organization's (None: a platform endpoint), due since."""

    endpoint_id: str
    org_id: str | None
    due_at: datetime


def _pending_endpoints() -> CTE:
    """The endpoints with a message pending, one after another in the index (``ix_outbox_messages_endpoint_due``):
    each step reads the first entry past the previous endpoint, not the messages between."""
    endpoint = OutboxMessage.webhook_endpoint_id

    def first(after: ColumnElement[bool]) -> Any:
        pending = select(endpoint).where(OutboxMessage.status == PENDING, after)
        return pending.order_by(endpoint).limit(1).scalar_subquery()

    walk = select(first(endpoint.is_not(None)).label("endpoint_id")).cte("pending_endpoints", recursive=True)
    step = select(first(endpoint > walk.c.endpoint_id)).where(walk.c.endpoint_id.is_not(None))
    return walk.union_all(step)


async def due_endpoints(session: AsyncSession, busy: Collection[str] = ()) -> list[DueEndpoint]:
    """The webhook endpoints with a message claimable now, but those in ``busy``, the oldest due first; read per
    endpoint, a few index entries each, however many messages wait. (Oldest first across every endpoint, a poll
    read all the due messages of the busy ones before another's: a slow endpoint's backlog, every second.)"""
    now = utcnow()
    walk = _pending_endpoints()
    endpoint = walk.c.endpoint_id

    def of_oldest_due(column: Any) -> Any:  # (a join to the oldest's row was planned as a scan of the table)
        oldest = select(column).where(*_claimable(now, (OutboxMessage.webhook_endpoint_id == endpoint,)))
        return oldest.order_by(*_OLDEST_DUE_FIRST).limit(1).correlate(walk).scalar_subquery()

    heads = (
        select(
            endpoint,
            of_oldest_due(OutboxMessage.org_id).label("org_id"),
            of_oldest_due(OutboxMessage.next_attempt_at).label("due_at"),
        )
        .where(endpoint.is_not(None), endpoint.not_in(busy))
        .subquery()
    )
    statement = select(heads).where(heads.c.due_at.is_not(None)).order_by(heads.c.due_at)
    return [
        DueEndpoint(str(endpoint_id), org_id, due_at)
        for endpoint_id, org_id, due_at in await session.execute(statement)
    ]


async def release(session: AsyncSession, message_ids: list[str], leased_until: datetime) -> None:
    """Give back leased messages not attempted after all (the worker is stopping, or its lease is running
    out): the next pass or worker takes them at once, and the attempt counted when they were leased is undone.
    Only while they still hold this worker's lease (``leased_until``): once it ran out, another worker may hold
    them, and its lease is not this one's to end."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(message_ids),
            OutboxMessage.status == PENDING,
            OutboxMessage.locked_until == leased_until,
        )
        .values(locked_until=None, attempts=OutboxMessage.attempts - 1)
        .execution_options(synchronize_session=False)
    )


async def mark_sent(session: AsyncSession, message_id: str) -> bool:
    """Record delivery and drop the payload; False when the message was already settled."""
    return await mark_all_sent(session, [message_id]) == 1


async def mark_all_sent(session: AsyncSession, message_ids: list[str]) -> int:
    """``mark_sent`` for many messages in one statement; how many were not settled before."""
    settled = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids), OutboxMessage.status == PENDING)
        .values(status=SENT, sent_at=utcnow(), locked_until=None, last_error=None, payload={})
        .execution_options(synchronize_session=False)
    )
    return settled.rowcount  # type: ignore[attr-defined,no-any-return]


async def mark_failed_attempt(
    session: AsyncSession, message: OutboxMessage, error: str, *, max_attempts: int, base_delay: float, permanent: bool
) -> None:
    """Schedule a retry with exponential backoff, or give the message up (permanent error, or too many tries)."""
    retry_at = None
    if not permanent and message.attempts < max_attempts:
        delay = min(base_delay * 2 ** (message.attempts - 1), MAX_RETRY_DELAY_SECONDS)
        retry_at = utcnow() + timedelta(seconds=delay)
    await reschedule(session, message, error, retry_at)


async def reschedule(session: AsyncSession, message: OutboxMessage, error: str, retry_at: datetime | None) -> None:
    """Record a failed attempt of ``message`` as claimed: try again at ``retry_at``, or (None) give it up.

    Only while it still holds the lease it was claimed with (as ``release``): once that ran out, another worker may
    have leased it and be delivering it, and a failure recorded now would end that worker's lease (a third one
    sends it again) or give up a message that is going out."""
    values: dict[str, Any] = {"locked_until": None, "last_error": error[:_ERROR_MAX_CHARS]}
    if retry_at is None:
        values.update(status=FAILED, payload={})
    else:
        values["next_attempt_at"] = retry_at
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message.id,
            OutboxMessage.status == PENDING,
            OutboxMessage.locked_until == message.locked_until,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def purge(session: AsyncSession, older_than: datetime) -> int:
    """Delete settled messages older than ``older_than``."""
    result = await session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.status.in_((SENT, FAILED)), OutboxMessage.created_at < older_than)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def backlog(session: AsyncSession) -> list[tuple[str, int, datetime]]:
    """Per kind, how many messages wait for delivery and when the oldest was written."""
    statement = (
        select(OutboxMessage.kind, func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status == PENDING)
        .group_by(OutboxMessage.kind)
    )
    return [(kind, int(count), oldest) for kind, count, oldest in await session.execute(statement)]

"""Timestamps are timezone-aware UTC on both databases: written as UTC, read back as UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from tenantry.core.outbox.models import OutboxMessage
from tenantry.db.engine import Database
from tests.conftest import BACKEND


async def test_a_timestamp_reads_back_as_the_same_instant_in_utc(database: Database) -> None:
    written = datetime(2026, 12, 5, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))
    async with database.transaction() as session:
        message = OutboxMessage(kind="email", payload={}, next_attempt_at=written)
        session.add(message)
    async with database.transaction(write=False) as session:
        read = await session.scalar(select(OutboxMessage.next_attempt_at).where(OutboxMessage.id == message.id))
        entity = await session.get(OutboxMessage, message.id)
    assert entity is not None
    for value in (read, entity.next_attempt_at):
        assert value == written
        assert value is not None
        assert value.utcoffset() == timedelta(0)
        assert (value.hour, value.microsecond) == (1, 678901)


async def test_a_naive_timestamp_is_refused(database: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with database.transaction() as session:
            session.add(OutboxMessage(kind="email", payload={}, next_attempt_at=datetime(2026, 12, 5)))


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite keeps timestamps as text")
@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ("2026-12-05 01:02:03.000004", datetime(2026, 12, 5, 1, 2, 3, 4, tzinfo=UTC)),  # as Tenantry writes them
        ("2026-12-05 01:02:03", datetime(2026, 12, 5, 1, 2, 3, tzinfo=UTC)),  # CURRENT_TIMESTAMP's
        ("2026-12-05T01:02:03", datetime(2026, 12, 5, 1, 2, 3, tzinfo=UTC)),
        ("2026-12-05 03:02:03+02:00", datetime(2026, 12, 5, 1, 2, 3, tzinfo=UTC)),  # written with an offset
        ("2026-12-05T01:02:03Z", datetime(2026, 12, 5, 1, 2, 3, tzinfo=UTC)),
        ("2026-12-05", datetime(2026, 12, 5, tzinfo=UTC)),  # a date alone: "+00:00" must not pass for its time
    ],
)
async def test_sqlite_text_in_any_iso_form_reads_as_utc(database: Database, stored: str, read: datetime) -> None:
    async with database.transaction() as session:
        message = OutboxMessage(kind="email", payload={})
        session.add(message)
    async with database.transaction() as session:
        connection = await session.connection()
        await connection.exec_driver_sql("UPDATE outbox_messages SET sent_at = ? WHERE id = ?", (stored, message.id))
    async with database.transaction(write=False) as session:
        value = await session.scalar(select(OutboxMessage.sent_at).where(OutboxMessage.id == message.id))
    assert value == read
    assert value is not None
    assert value.tzinfo is UTC

"""Reading sessions (safe-method requests) refuse to write and run without a transaction. What
any session reads back: stored documents, and times aware in UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, select

from tenantry.core.orgs.models import Organization
from tenantry.db.engine import Database, ReadOnlySession
from tests.statements import sent_statements


async def test_a_reading_session_refuses_to_write_and_nothing_is_stored(database: Database) -> None:
    async with database.session(write=False) as session:
        session.add(Organization(slug="never-stored", name="Never stored"))
        with pytest.raises(ReadOnlySession):
            await session.flush()
        await session.rollback()
    async with database.transaction(write=False) as session:
        counted = select(func.count()).select_from(Organization).where(Organization.slug == "never-stored")
        stored = await session.scalar(counted)
    assert stored == 0


async def test_a_writing_session_writes(database: Database) -> None:
    async with database.transaction() as session:
        session.add(Organization(slug="stored", name="Stored"))
    async with database.session(write=False) as session:
        found = await session.scalar(select(Organization).where(Organization.slug == "stored"))
        assert found is not None
        found.name = "Renamed in a reading session"
        with pytest.raises(ReadOnlySession):
            await session.flush()
        await session.rollback()
    async with database.transaction(write=False) as session:
        assert await session.scalar(select(Organization.name).where(Organization.slug == "stored")) == "Stored"


async def test_a_read_transaction_that_changed_nothing_ends_without_a_commit(database: Database) -> None:
    """Nothing to commit, so no commit (its unit-of-work bookkeeping, on SQLite a trip to the connection's
    thread); a writing transaction commits."""
    commits: list[object] = []

    def counted(connection: object) -> None:
        commits.append(connection)

    event.listen(database.engine.sync_engine, "commit", counted)
    try:
        async with database.transaction(write=False) as session:
            assert await session.scalar(select(func.count()).select_from(Organization)) == 0
        assert commits == []
        async with database.transaction() as session:
            session.add(Organization(slug="committed", name="Committed"))
        assert len(commits) == 1
    finally:
        event.remove(database.engine.sync_engine, "commit", counted)


async def test_a_read_transaction_that_changed_an_entity_still_refuses(database: Database) -> None:
    with pytest.raises(ReadOnlySession):
        async with database.transaction(write=False) as session:
            session.add(Organization(slug="refused", name="Refused"))
    async with database.transaction(write=False) as session:
        assert await session.scalar(select(Organization.id).where(Organization.slug == "refused")) is None


async def test_documents_read_back_as_they_were_stored_each_its_own_object(database: Database) -> None:
    async with database.transaction() as session:
        session.add(Organization(slug="empty-settings", name="Empty"))
        session.add(Organization(slug="other-empty", name="Other"))
        session.add(Organization(slug="some-settings", name="Some", settings={"theme": {"dark": True}, "n": [1, 2.5]}))
    async with database.session(write=False) as session:
        read = select(Organization.slug, Organization.settings).where(Organization.slug.like("%-settings"))
        settings = dict((await session.execute(read)).all())
        others = await session.scalar(select(Organization.settings).where(Organization.slug == "other-empty"))
    assert settings == {"empty-settings": {}, "some-settings": {"theme": {"dark": True}, "n": [1, 2.5]}}
    assert others == {}
    assert others is not settings["empty-settings"]


async def test_times_read_back_aware_in_utc_whatever_zone_they_were_given_in(database: Database) -> None:
    given = datetime(2026, 3, 1, 9, 30, 15, 250_000, tzinfo=timezone(timedelta(hours=-5)))
    async with database.transaction() as session:
        session.add(Organization(slug="zoned", name="Zoned", created_at=given))
    async with database.session(write=False) as session:
        read = await session.scalar(select(Organization.created_at).where(Organization.slug == "zoned"))
    assert read == given
    assert read is not None
    assert read.tzinfo is UTC


async def _failing_write(database: Database) -> None:
    async with database.transaction() as session:
        session.add(Organization(slug="rolled-back", name="Rolled back"))
        await session.flush()
        raise RuntimeError("the unit of work fails")


async def test_reading_sessions_open_no_transaction_and_writing_ones_take_the_lock_first(database: Database) -> None:
    """Reads run each statement on its own on both databases (no BEGIN, nothing to end); a writing session on
    SQLite takes the write lock when it starts (BEGIN IMMEDIATE), and a failed one is rolled back."""
    with sent_statements(database) as sent:
        async with database.transaction(write=False) as session:
            await session.scalar(select(func.count()).select_from(Organization))
    read = [statement.strip().upper() for statement in sent]
    with sent_statements(database) as sent, pytest.raises(RuntimeError):
        await _failing_write(database)
    written = [statement.strip().upper() for statement in sent]
    assert not any(statement.startswith("BEGIN") for statement in read)
    assert len(read) == 1
    if database.is_sqlite:
        assert written[0] == "BEGIN IMMEDIATE"
    async with database.transaction(write=False) as session:
        assert await session.scalar(select(Organization.id).where(Organization.slug == "rolled-back")) is None

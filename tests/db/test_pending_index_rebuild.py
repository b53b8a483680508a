"""PostgreSQL: 0024 rebuilds the index of events still to dispatch while events go on being written."""

import asyncio
import contextlib
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import Connection

from tenantry.db import migrate
from tenantry.db.engine import Database
from tests.conftest import BACKEND, empty_database

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="CONCURRENTLY is PostgreSQL's; SQLite has one writer")

_EVENT = "INSERT INTO audit_events (id, action, details, created_at) VALUES ($1, 'x.y', '{}', now())"
_INDEXES = (
    "SELECT indexrelid::regclass::text, indisvalid, pg_get_indexdef(indexrelid) FROM pg_index "
    "WHERE indrelid = 'audit_events'::regclass AND indexrelid::regclass::text LIKE 'ix_audit_events_dispatch_pending%'"
)
_WAITING = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
_NAME = "ix_audit_events_dispatch_pending"
_BUILDING = "ix_audit_events_dispatch_pending_building"


def _index(*columns: str) -> tuple[str, bool, str]:
    """The row of ``_INDEXES`` for the one valid index, as 0013 (``id``) and 0024 (``created_at, id``) make it."""
    definition = f"ON public.audit_events USING btree ({', '.join(columns)}) WHERE (dispatch_pending IS NOT NULL)"
    return (_NAME, True, f"CREATE INDEX {_NAME} {definition}")


async def _at_0023(url: str) -> Database:
    from alembic import command

    def run(connection: Connection) -> None:
        config = migrate.alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0023")

    database = Database(url)
    await migrate.upgrade(database)
    async with database.engine.connect() as connection:
        await connection.run_sync(run)
    return database


async def test_events_are_written_while_0024_builds_its_index(tmp_path: Path) -> None:
    """A transaction that has written an event and stays open holds the build up (CONCURRENTLY waits for writes
    already under way); meanwhile another event is written at once. A plain CREATE INDEX (or DROP INDEX) would
    queue its lock on the table there, and every later write would wait behind it until the build ended."""
    with empty_database(tmp_path) as url:
        database = await _at_0023(url)
        writing, other = await asyncpg.connect(url), await asyncpg.connect(url)
        upgrade = None
        try:
            assert [tuple(row) for row in await other.fetch(_INDEXES)] == [_index("id")]
            open_write = writing.transaction()
            await open_write.start()
            await writing.execute(_EVENT, "a" * 24)
            upgrade = asyncio.create_task(migrate.upgrade(database))
            async with asyncio.timeout(3):
                while not await other.fetchval(_WAITING):  # the build waits for the open write to end
                    assert not upgrade.done(), "0024 ran through without waiting for the write under way"
                    await asyncio.sleep(0.01)
            await other.execute("SET lock_timeout = '1s'")
            await other.execute(_EVENT, "b" * 24)
            await open_write.commit()
            await asyncio.wait_for(upgrade, 3)
            indexes = [tuple(row) for row in await other.fetch(_INDEXES)]
            events = await other.fetchval("SELECT count(*) FROM audit_events")
        finally:
            await writing.close()
            await other.close()
            if upgrade is not None:
                await asyncio.wait([upgrade], timeout=3)
            await database.dispose()
    assert indexes == [_index("created_at", "id")]
    assert events == 2


@pytest.mark.parametrize(
    "left_behind",
    [
        pytest.param(f"CREATE UNIQUE INDEX CONCURRENTLY {_BUILDING} ON audit_events (action)", id="build-failed"),
        pytest.param(
            f"DROP INDEX {_NAME}; CREATE INDEX {_BUILDING} ON audit_events (created_at, id) "
            "WHERE dispatch_pending IS NOT NULL",
            id="old-index-dropped",
        ),
    ],
)
async def test_0024_runs_again_after_stopping_midway(tmp_path: Path, left_behind: str) -> None:
    """A build that failed leaves an INVALID index under the temporary name (here: unique over two equal
    actions); one that stopped after dropping the old index leaves the new one unrenamed. The next run ends
    with the one index either way."""
    with empty_database(tmp_path) as url:
        database = await _at_0023(url)
        connection = await asyncpg.connect(url)
        try:
            for event_id in ("a" * 24, "b" * 24):
                await connection.execute(_EVENT, event_id)
            with contextlib.suppress(asyncpg.UniqueViolationError):  # the build that failed
                await connection.execute(left_behind)
            assert _BUILDING in {row[0] for row in await connection.fetch(_INDEXES)}
            await migrate.upgrade(database)
            indexes = [tuple(row) for row in await connection.fetch(_INDEXES)]
        finally:
            await connection.close()
            await database.dispose()
    assert indexes == [_index("created_at", "id")]

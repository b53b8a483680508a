"""SQLite: a statement is one trip to its connection's thread, and reads back what a cursor would (rows, row count,
last row id, errors, several parameter sets, rows streamed by a server-side cursor)."""

import asyncio
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from tenantry.db.engine import Database
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="aiosqlite's thread")


@contextmanager
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The calls queued for aiosqlite's threads while the block runs."""
    queued: list[Any] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        queued.append(fn)
        return await original(self, fn, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(aiosqlite.Connection, "_execute", counted)
        yield queued


async def test_a_statement_is_one_trip_and_reads_what_a_cursor_reads(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database.transaction() as session:
        connection = await session.connection()
        await connection.exec_driver_sql("CREATE TABLE trips (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
        with trips(monkeypatch) as queued:
            inserted = await connection.exec_driver_sql("INSERT INTO trips (name) VALUES ('a')")
        assert len(queued) == 1
        assert (inserted.rowcount, inserted.lastrowid) == (1, 1)
        many = await connection.exec_driver_sql("INSERT INTO trips (name) VALUES (?)", [("b",), ("c",), ("d",)])
        assert many.rowcount == 3
        changed = await connection.execute(text("UPDATE trips SET name = name || '!' WHERE id > 2"))
        assert changed.rowcount == 2
        with trips(monkeypatch) as queued:
            rows = (await connection.execute(text("SELECT id, name FROM trips ORDER BY id"))).all()
        assert len(queued) == 1
        assert [tuple(row) for row in rows] == [(1, "a"), (2, "b"), (3, "c!"), (4, "d!")]
        first = await connection.execute(text("SELECT name FROM trips ORDER BY id"))
        assert (first.fetchone(), first.fetchmany(2), first.fetchall()) == (("a",), [("b",), ("c!",)], [("d!",)])
        assert (await connection.execute(text("SELECT name FROM trips WHERE id > 9"))).all() == []
        streamed = await connection.stream(text("SELECT id FROM trips ORDER BY id"))
        assert [row[0] async for row in streamed] == [1, 2, 3, 4]
        with pytest.raises(IntegrityError):
            await connection.exec_driver_sql("INSERT INTO trips (name) VALUES ('a')")
        await connection.exec_driver_sql("DROP TABLE trips")


async def test_concurrent_reads_keep_their_connections_open(database_url: str) -> None:
    """A connection opened for a burst of readers stays in the pool: closing it on return (an overflow connection
    while others were idle) meant opening another moments later, its thread, connection and pragmas each time."""
    database = Database(database_url)  # a pool of its own: the session's is already full
    opened: list[object] = []
    closed: list[object] = []
    event.listen(database.engine.sync_engine.pool, "connect", lambda *_: opened.append(1))
    event.listen(database.engine.sync_engine.pool, "close", lambda *_: closed.append(1))
    chance = random.Random(7)

    async def reader() -> None:
        for _ in range(25):
            async with database.session(write=False) as session:
                await session.execute(text("SELECT 1"))
                await asyncio.sleep(chance.choice((0, 0, 0.001)))
            await asyncio.sleep(chance.choice((0, 0.002)))

    try:
        await asyncio.gather(*(reader() for _ in range(16)))
    finally:
        await database.dispose()
    assert 2 <= len(opened) <= 8
    assert len(closed) == len(opened)  # each closed once, when the pool was disposed of


async def test_a_commit_with_no_transaction_open_makes_no_trip(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reading session runs its statements on their own (no BEGIN): committing it has nothing to commit."""
    async with database.session(write=False) as session:
        await session.execute(text("SELECT 1"))
        with trips(monkeypatch) as queued:
            await session.commit()
        assert queued == []
    async with database.session(write=True) as session:
        await session.execute(text("SELECT 1"))  # after BEGIN IMMEDIATE: a transaction is open
        with trips(monkeypatch) as queued:
            await session.commit()
        assert len(queued) == 1

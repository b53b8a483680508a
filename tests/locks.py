"""Two requests' locks taken in a chosen interleaving: one request is paused between two of its locks, the other
goes as far as it can (on PostgreSQL, until it waits for a lock), then the first goes on. A lock order that
differs between the two is then a deadlock, every time, where requests fired at once find it now and then."""

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.credentials import lockout
from tenantry.runtime import Runtime


class Paused:
    """The first call of ``owner.name`` waits until released, after it answered (default) or, with ``before``,
    before it runs: a transaction paused between two of its locks, or between what it read and what it writes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: object, name: str, *, before: bool = False) -> None:
        original = getattr(owner, name)
        self._reached, self._go, calls = asyncio.Event(), asyncio.Event(), []

        async def paused(*args: object, **kwargs: object) -> object:
            calls.append(name)
            first = len(calls) == 1
            if first and before:
                self._reached.set()
                await self._go.wait()
            answered = await original(*args, **kwargs)
            if first and not before:
                self._reached.set()
                await self._go.wait()
            return answered

        monkeypatch.setattr(owner, name, paused)

    async def reached(self) -> None:
        await asyncio.wait_for(self._reached.wait(), 10)

    def release(self) -> None:
        self._go.set()


async def until_waiting(runtime: Runtime) -> None:
    """On PostgreSQL, until another backend of this database waits for a lock (a row, an advisory lock);
    SQLite's writers take turns, so there a moment for the other request to queue for the write lock. At most 10 s."""
    if runtime.database.engine.dialect.name != "postgresql":
        await asyncio.sleep(0.2)
        return
    deadline = asyncio.get_running_loop().time() + 10
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )
    while True:
        async with runtime.database.engine.connect() as connection:
            if await connection.scalar(waiting):
                return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("no request waits for a lock")
        await asyncio.sleep(0.02)


def account_locks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys of the accounts' locks (``lockout.one_at_a_time``) taken from now on: a request that ends thousands of
    accounts' sessions takes none (PostgreSQL could not hold one each)."""
    locked: list[str] = []
    taken = lockout.one_at_a_time

    async def counted(session: AsyncSession, key: str) -> None:
        locked.append(key)
        await taken(session, key)

    monkeypatch.setattr(lockout, "one_at_a_time", counted)
    return locked

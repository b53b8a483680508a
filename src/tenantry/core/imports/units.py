"""Where an import reads and writes: its own transactions (the CLI) or a request's session (an upload)."""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.db.engine import Database


class Units(Protocol):
    overlapping: bool
    """Whether a batch may be read and checked while the previous one is still being written."""

    def read(self) -> AbstractAsyncContextManager[AsyncSession]: ...

    def write(self) -> AbstractAsyncContextManager[AsyncSession]: ...


class OwnTransactions:
    """One short transaction per batch: reads without the write lock, then one write transaction. Each is a
    session of its own, so the next batch is checked while this one is written."""

    overlapping = True

    def __init__(self, database: Database) -> None:
        self._database = database

    def read(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self._database.transaction(write=False)

    def write(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self._database.transaction(write=True)


class RequestSession:
    """Inside a request's unit of work: each batch's write is a savepoint, so a clash undoes only that batch."""

    overlapping = False  # one session: one thing at a time

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        yield self._session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        async with self._session.begin_nested():
            yield self._session

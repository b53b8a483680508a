"""Where an import reads and writes: its own short transactions, a batch at a time (the CLI and uploads)."""

from contextlib import AbstractAsyncContextManager
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

"""SQLite statements in one trip to the connection's thread, not four.

aiosqlite runs each connection's calls on a thread of its own; every call is a trip there and back (a queue,
a future, a wake-up of the event loop). SQLAlchemy's adapter makes four for each statement: open a cursor,
execute, fetch the rows, close the cursor. Pinned to one core, a trip costs about 22 microseconds of CPU
(``execute_fetchall("select 1")`` 22 us against cursor, execute, fetchall and close 88 us): a get-user's one
statement paid 66 us for the three extra trips, a create-user's dozen 0.8 ms. Here a statement's cursor is
opened, run, read and closed on the thread in one call; its rows, description, row count and last row id
come back together, and the cursor SQLAlchemy holds only hands them out. A rollback or a commit with no
transaction open makes no trip at all.

Server-side cursors (``stream_results``) keep SQLAlchemy's own adapter: their rows are fetched as they are read.
"""

import sqlite3
from collections import deque
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.util import EMPTY_DICT

_Ran = tuple[Any, int, int | None, list[Any]]
"""What running a statement gave: its description, row count, last row id and rows."""


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Ran:
    """On the connection's thread: the statement, from opening its cursor to closing it."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        return description, cursor.rowcount, cursor.lastrowid, cursor.fetchall() if description else []
    finally:
        cursor.close()


class _OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's cursor over what ``_run`` brought back: it holds no aiosqlite cursor of its own."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # no trip to open a cursor
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _trip(self, operation: str, parameters: Any, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            ran: _Ran = await connection._execute(  # type: ignore[no-untyped-call]
                _run, connection._conn, operation, parameters, many
            )
        self._description, self._rowcount, self._lastrowid, rows = ran
        self._rows = deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._trip(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        await self._trip(operation, seq_of_parameters, True)

    async def _async_soft_close(self) -> None:
        """Nothing to close on the thread: the rows stay until they are read."""

    def close(self) -> None:
        self._rows.clear()

    def nextset(self) -> None:
        self._rows.clear()  # sqlite3 runs one statement at a time: there is no next set

    def setinputsizes(self, *inputsizes: Any) -> None:
        """sqlite3 ignores input sizes."""


class _OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _OneTripCursor

    def _idle(self) -> bool:
        """No transaction is open (read here, without the thread)."""
        try:
            return not self._connection.in_transaction
        except ValueError:  # aiosqlite's connection is closed: the adapter's own commit or rollback knows what to do
            return False

    def rollback(self) -> None:
        """Nothing when no transaction is open (a reading unit of work's): SQLite's rollback would do nothing,
        after a trip to the thread."""
        if not self._idle():
            super().rollback()

    def commit(self) -> None:
        """Nothing when no transaction is open (a read on its own, in autocommit): the same as ``rollback``."""
        if not self._idle():
            super().commit()


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite module whose connections run a statement in one trip (``create_async_engine``'s
    ``module``)."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        connection = super().connect(*arg, **kw)
        connection.__class__ = _OneTripConnection  # the same slots: only the cursor it makes differs
        return connection


def _run_all(connection: sqlite3.Connection, statements: Sequence[tuple[str, Any]]) -> None:
    """On the connection's thread: each statement in turn, in the transaction open on ``connection``."""
    for operation, parameters in statements:
        connection.execute(operation, parameters).close()


async def run_in_one_trip(connection: AsyncConnection, statements: Sequence[tuple[str, Any]]) -> None:
    """Run ``statements`` (SQL and its parameters; no rows read) one after the other in one trip to the SQLite
    connection's thread, in the transaction ``connection`` holds open.

    For a bulk write of several tables whose rows another task prepares meanwhile on the event loop: statement by
    statement, each next one waited for the loop, which was busy with that task (an import reading the next
    batch), so the thread and the loop took turns. SQLAlchemy's execution events do not see these statements."""
    raw = await connection.get_raw_connection()
    adapted, driver = raw.dbapi_connection, raw.driver_connection
    assert isinstance(driver, aiosqlite.Connection)
    try:
        async with adapted._execute_mutex:  # type: ignore[union-attr]
            await driver._execute(_run_all, driver._conn, statements)  # type: ignore[no-untyped-call]
    except sqlite3.IntegrityError as error:
        raise IntegrityError("(a batch of statements)", None, error) from error

"""Which failures mean "the database is away" (try again shortly) rather than "the database refused this
statement" (a bug, a conflict), on both drivers. The one classification the engine (to drop broken
connections) and the HTTP surfaces (to answer 503) share."""

import socket
import sqlite3
from collections.abc import Iterator

from sqlalchemy import exc

_SQLSTATE_CLASSES = ("08", "53", "57")
"""Connection exception; insufficient resources (too many connections); operator intervention (shutdown,
a terminated backend, a cancelled statement)."""
_FAULTS = ("53200",)
"""out_of_memory, which is also PostgreSQL's "out of shared memory" when a transaction takes more locks than
``max_locks_per_transaction`` allows: the same request fails the same way again, so it is a fault (500), not
"try again shortly" (503)."""
_SQLITE_CODES = {5, 6, 10, 13, 14, 15}
"""BUSY and LOCKED (the lock was not had within the busy timeout), IOERR, FULL, CANTOPEN, PROTOCOL."""
_DRIVER_STATE = ("InterfaceError", "InternalClientError", "ConnectionDoesNotExistError")
"""asyncpg's errors of a connection in a state it cannot be used in ("cannot switch to state 15")."""


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _away(cause: BaseException) -> bool:
    if isinstance(cause, exc.DBAPIError) and cause.connection_invalidated:
        return True
    if isinstance(cause, exc.TimeoutError | TimeoutError | ConnectionError | socket.gaierror):
        return True  # no connection from the pool in time; connect or statement timeout; refused, reset
    if type(cause) is OSError and "Connect call failed" in str(cause):
        return True  # asyncio's refusal on every address of a host
    sqlstate = getattr(cause, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate[:2] in _SQLSTATE_CLASSES and sqlstate not in _FAULTS:
        return True
    if isinstance(cause, sqlite3.OperationalError) and (cause.sqlite_errorcode & 0xFF) in _SQLITE_CODES:
        return True
    return type(cause).__module__.startswith("asyncpg") and type(cause).__name__ in _DRIVER_STATE


def is_unavailable(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) says the database cannot be reached or used just now."""
    return any(_away(cause) for cause in _causes(error))


def lost_connection(error: BaseException) -> bool:
    """True when a connection that was open broke (a terminated backend, a restart), as opposed to the
    database refusing new ones: the same request on a new connection may well succeed."""
    return any(isinstance(cause, exc.DBAPIError) and cause.connection_invalidated for cause in _causes(error))


_UNSTORABLE_TEXT = ("22021", "22P05")
"""character_not_in_repertoire (a NUL in text) and untranslatable_character."""


def unstorable_text(error: BaseException) -> bool:
    """True when the database refused a text value it cannot hold (PostgreSQL and a NUL character): the
    request's input, not the service, is at fault."""
    return any(getattr(cause, "sqlstate", None) in _UNSTORABLE_TEXT for cause in _causes(error))

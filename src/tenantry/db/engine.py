"""The database: engine, sessions and one transaction per unit of work, on SQLite or PostgreSQL."""

import itertools
import json
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import LRUCache

from tenantry.db.errors import is_unavailable
from tenantry.db.pins import PrimaryPins
from tenantry.db.replica_lag import ReplicaLag
from tenantry.db.sqlite_trips import OneTripDbapi
from tenantry.db.write_turns import WriteTurns

_WRITE_OPTION = "tenantry_write"
_READ_ONLY = "tenantry.read_only"
_AUTOCOMMIT = "tenantry_autocommit"
"""SQLite: the connection runs each statement on its own (no BEGIN), as reading units of work do."""
_SQLITE_POOL = 8
"""SQLite: the connections a process keeps, and opens no more beyond."""
REPLICA_RETRY_SECONDS = 10.0
"""How long a replica that failed is left alone before reads try it again."""


class ReadOnlySession(RuntimeError):
    """A session opened for reading (a GET request) was asked to write."""


@event.listens_for(Session, "before_flush")
def _refuse_writes_when_reading(session: Session, _context: object, _instances: object) -> None:
    """Reading sessions may run without a transaction (autocommit), so a write there must fail, not half-apply."""
    if session.info.get(_READ_ONLY) and (
        session.new or session.deleted or any(session.is_modified(instance) for instance in session.dirty)
    ):
        raise ReadOnlySession("a read-only unit of work (a GET request) tried to write")


def holds_changes(session: AsyncSession) -> bool:
    """Whether ``session`` changed an entity; a reading one's commit would then refuse (``ReadOnlySession``).

    A reading session that changed nothing is closed, not committed: a read has nothing to commit, and the
    commit's unit-of-work bookkeeping was 0.07 ms of a get-user's 1.2 ms of CPU."""
    return bool(session.new or session.dirty or session.deleted)


def reading(session: AsyncSession) -> bool:
    """Whether ``session`` is a reading unit of work: a GET's, a replica's, or the request session of a ``batched``
    endpoint (which writes in sessions of its own). It may change no entity."""
    return bool(session.info.get(_READ_ONLY))


def async_url(url: str) -> URL:
    """Accept the plain URLs users write and pick the async driver ourselves."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}: use sqlite:/// or postgresql://")


def _install_sqlite_transactions(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    """Take BEGIN over from the driver: write units start with BEGIN IMMEDIATE, reading units with none.

    A deferred transaction that reads and then writes can fail at once with SQLITE_BUSY when another
    connection holds the write lock; taking the lock up front makes writers queue instead: in this process
    in arrival order (``write_turns``), between processes on busy_timeout.

    Reading units of work (``_AUTOCOMMIT``) run each statement on its own, as they do on PostgreSQL: a BEGIN
    and its ROLLBACK were each a trip to the connection's thread and through SQLAlchemy's execution, two of a
    get-user's four (in process, 1,500 get-users pinned to one core, min of 3 alternating runs: 3.19 -> 2.06 ms
    of CPU with the BEGIN gone, 1.83 -> 1.21 ms with the ROLLBACK too, on a machine other work was loading).
    A rollback or a commit is skipped when no transaction is open (``sqlite_trips``): SQLite's own would do nothing,
    after the trip.
    """
    turns = WriteTurns(busy_timeout_ms / 1000)
    event.listen(engine.sync_engine.pool, "checkin", turns.give_back)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
        if immediate:
            turns.take(connection.info)
        elif connection.get_execution_options().get(_AUTOCOMMIT, False):
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def read_json(text: str) -> Any:
    """``json.loads``, without the parser for an empty object: most stored documents (settings, attributes) are
    ``{}``, and a list page decoded a hundred of them, each through three Python calls of the json module."""
    return {} if text == "{}" else json.loads(text)


def _drop_broken_connections(engine: AsyncEngine) -> None:
    """A PostgreSQL connection that failed because the server went away (or asyncpg lost track of its state,
    "cannot switch to state 15") is discarded with the rest of the pool, never handed out again."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        if not context.is_disconnect and is_unavailable(context.original_exception):
            context.is_disconnect = True


_PREPARED_STATEMENTS = 100
"""Statements each PostgreSQL connection keeps prepared (SQLAlchemy's asyncpg default)."""


def _close_prepared_statements_one_at_a_time(engine: AsyncEngine) -> None:
    """SQLAlchemy's asyncpg adapter keeps a connection's prepared statements in an LRU cache that, once it
    holds half as many again as its size, drops the oldest 50 at once; asyncpg then closes all 50 on the server,
    one round trip each, before the next statement it prepares. A statement with a value written into its text
    (a search term, ``directory._planned_with``) is a new statement every time: every 50th search paid 50 round
    trips (6 ms median, 36 ms at worst in a probe of the bench's selective search, 1.5% of its requests). Dropped
    one at a time, each new statement closes one."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        if getattr(dbapi_connection, "_prepared_statement_cache", None) is not None:
            dbapi_connection._prepared_statement_cache = LRUCache(_PREPARED_STATEMENTS, threshold=0)


def _lag_engine(url: URL, options: dict[str, Any]) -> AsyncEngine:
    """An engine of one connection in autocommit, apart from the requests' pool, that samples a server's WAL
    position (``db.replica_lag``): in the pool, a primary busy enough to need its replicas would keep the sample
    waiting for a connection, and its replicas would age past the bound."""
    engine = create_async_engine(url, **(options | {"pool_size": 1, "max_overflow": 0}), isolation_level="AUTOCOMMIT")
    _drop_broken_connections(engine)
    return engine


class Database:
    """Owns the engine; hands out sessions whose transaction is committed or rolled back as a whole."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 20,
        sqlite_busy_timeout_ms: int = 30_000,
        connect_timeout_seconds: float = 5.0,
        statement_timeout_seconds: float | None = 30.0,
        replica_urls: Sequence[str] = (),
        primary_pin_seconds: float = 10.0,
        replica_max_lag_seconds: float = 1.0,
    ) -> None:
        self.url = async_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        # No pre-ping: it costs a round trip per request. A connection the server dropped fails its request (a
        # read is tried once more, a write answers 503) and SQLAlchemy then replaces the pool; connections are
        # recycled every half hour regardless.
        options: dict[str, Any] = {"pool_recycle": 1800, "json_deserializer": read_json}
        if self.is_sqlite:
            # One file, one writer at a time, reads on a thread per connection: more than a few connections
            # only add page caches (2 MiB each) and threads, not speed. get-user with 32 clients peaked at 178 MiB
            # on 8 connections where 16 took 197 MiB, at the same rate. All of them are kept: with 4 kept and 4
            # more opened beyond, a connection returned while 4 were idle was closed and another opened moments
            # later (a thread, a connection, its pragmas): 9% of get-users with 32 clients paid for one.
            pool_size, max_overflow = min(pool_size + max_overflow, _SQLITE_POOL), 0
            options["module"] = OneTripDbapi()  # a statement is one trip to the connection's thread (sqlite_trips)
        else:
            # A server that is away fails the request within these, instead of hanging it (a statement timeout of
            # None: none, for migrations).
            options["connect_args"] = {"timeout": connect_timeout_seconds, "command_timeout": statement_timeout_seconds}
        if not self.url.database or self.url.database != ":memory:":
            options.update(pool_size=pool_size, max_overflow=max_overflow)
        self.engine = create_async_engine(self.url, **options)
        readers = self.engine
        if self.is_sqlite:
            _install_sqlite_transactions(self.engine, sqlite_busy_timeout_ms)
            readers = self.engine.execution_options(**{_AUTOCOMMIT: True})
        else:
            _drop_broken_connections(self.engine)
            _close_prepared_statements_one_at_a_time(self.engine)
            # PostgreSQL reads in READ COMMITTED anyway, so a transaction adds nothing to a read but the
            # BEGIN and COMMIT round trips; readers run in autocommit instead (and may not write, see above).
            readers = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._readers = async_sessionmaker(readers, expire_on_commit=False, autoflush=False, info={_READ_ONLY: True})
        self._writers = async_sessionmaker(
            self.engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False, autoflush=False
        )
        if replica_urls and self.is_sqlite:
            raise ValueError("read replicas need PostgreSQL: TENANTRY_DATABASE_REPLICA_URLS is set with SQLite")
        self.replicas = [Replica(url, options) for url in replica_urls]
        self._next_replica = itertools.cycle(self.replicas)
        self.replica_lag = (
            ReplicaLag(
                _lag_engine(self.url, options),
                [replica.lag_engine for replica in self.replicas],
                replica_max_lag_seconds,
            )
            if self.replicas
            else None
        )
        self.pins = PrimaryPins(primary_pin_seconds)

    def session(self, *, write: bool, replica: "Replica | None" = None) -> AsyncSession:
        """A session on the primary, or, for a read given ``replica``, on that replica."""
        if replica is not None and not write:
            return replica.readers()
        return (self._writers if write else self._readers)()

    def pick_replica(self) -> "Replica | None":
        """The next replica in turn that has not failed lately and lags no more than the bound (``db.replica_lag``);
        None when there is none (read the primary)."""
        lag = self.replica_lag
        now = time.monotonic()
        for _ in self.replicas:
            replica = next(self._next_replica)
            if lag is not None and replica.down_until <= now and lag.recent(replica.lag_engine):
                return replica
        return None

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed when the block succeeds (a reading one that changed nothing is
        only closed: ``holds_changes``), rolled back when it raises."""
        async with self.session(write=write) as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            if write or holds_changes(session):
                await session.commit()

    async def dispose(self) -> None:
        if self.replica_lag is not None:
            await self.replica_lag.close()
        await self.engine.dispose()
        for replica in self.replicas:
            await replica.engine.dispose()


class Replica:
    """A PostgreSQL streaming replica that read-only units of work may use; reads there run in autocommit."""

    def __init__(self, url: str, options: dict[str, Any]) -> None:
        self.url = async_url(url)
        if self.url.get_backend_name() != "postgresql":
            raise ValueError(f"a read replica must be a postgresql:// URL, not {self.url.drivername!r}")
        self.engine = create_async_engine(self.url, **options)
        _drop_broken_connections(self.engine)
        _close_prepared_statements_one_at_a_time(self.engine)
        readers = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.readers = async_sessionmaker(readers, expire_on_commit=False, autoflush=False, info={_READ_ONLY: True})
        self.lag_engine = _lag_engine(self.url, options)
        self.down_until = 0.0

    def failed(self) -> None:
        """The replica could not serve a read: send reads to the primary for a while."""
        self.down_until = time.monotonic() + REPLICA_RETRY_SECONDS

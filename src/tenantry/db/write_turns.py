"""SQLite's writers of this process take the write lock one at a time, in the order they asked.

SQLite lets one connection write at once; the others wait in its busy handler, which polls the lock with
growing sleeps (up to 100 ms each) and hands it to whichever poll comes first, not to the first waiter. With
eight concurrent writers a transaction of a few milliseconds then waits a second and more behind luckier
ones, and some run past the busy timeout ("database is locked"). So a write transaction first takes its
turn on an ``asyncio.Lock`` of this process (first come, first served, woken the moment the previous writer
ends), and only then ``BEGIN IMMEDIATE``; SQLite's busy timeout still arbitrates between processes.

The turn is taken when the transaction begins (its first statement) and given back when its connection
returns to the pool, after COMMIT or ROLLBACK. Waiting longer than the busy timeout answers like a lock that
was not had: ``TimeoutError``, which the surfaces map to 503.
"""

import asyncio
import weakref
from typing import Any

from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_only

_TURN = "tenantry_write_turn"


class WriteTurns:
    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        # One lock per event loop: a lock belongs to the loop it first waits on (tests run several loops).
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    async def _acquire(self, lock: asyncio.Lock) -> None:
        async with asyncio.timeout(self.timeout_seconds):
            await lock.acquire()

    def take(self, info: dict[Any, Any]) -> None:
        """Wait for this process's write turn (from the engine's synchronous ``begin`` event)."""
        if _TURN in info:
            return
        lock = self._lock()
        await_only(self._acquire(lock))
        info[_TURN] = lock

    @staticmethod
    def give_back(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        """The connection's transaction is over (it is back in the pool): the next writer may begin."""
        lock = record.info.pop(_TURN, None)
        if lock is not None:
            lock.release()

"""Password hashing with argon2id, computed off the event loop on a bounded number of threads.

The threads are our own and few: each hash takes ``argon2_memory_kib`` (19 MiB) from malloc, which glibc
keeps in the thread's arena for its next hash (handing it back and faulting it in again made hashing a
fifth slower). Dedicated threads bound what is kept to one hash's memory per thread; a shared pool's
ever-changing threads would each keep their own. When no hash has run for ``IDLE_SECONDS``, the threads
give that memory back (``arenas``).

Hashes imported from other systems (bcrypt, PBKDF2, scrypt, other argon2 variants) verify through
``hashes`` and are reported as needing a rehash, which sign-in then does with our parameters.
"""

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tenantry.core.credentials import arenas, hashes
from tenantry.settings import Settings

IDLE_SECONDS = 1.0
T = TypeVar("T")


def usable_cores() -> int:
    """The cores this process may run on (``taskset``, a container's cpuset), not the machine's.

    More hashing threads than cores only take turns: pinned to one core, two threads verified 49 hashes/s where
    one verified 55, each evicting the other's 19 MiB from the cache (argon2id at the default cost).
    """
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # (not on every platform)
        return os.cpu_count() or 1


class Passwords:
    """Hashes and verifies passwords; at most ``concurrency`` hashes run at once, each on its own thread."""

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self._workers = settings.hash_concurrency or usable_cores()
        self._threads = ThreadPoolExecutor(self._workers, "argon2")
        # Verified against when the account is unknown, so that a miss costs what a hit costs.
        self._decoy = self._hasher.hash(os.urandom(16).hex())
        # After the decoy, which glibc then still maps and unmaps: it leaves nothing in this thread's arena.
        self._give_back = arenas.keep_hash_memory()
        self._running = 0
        self._idle: asyncio.TimerHandle | None = None

    async def hash(self, password: str) -> str:
        return await self._on_thread(partial(self._hasher.hash, password))

    async def hash_many(self, passwords: list[str]) -> list[str]:
        """Hashes of ``passwords`` in order, at most one per thread queued at a time: a sign-in's verification
        waits behind one round of them, not behind the whole batch (bulk work must not starve sign-ins)."""
        turns = asyncio.Semaphore(self._workers)

        async def one(password: str) -> str:
            async with turns:
                return await self.hash(password)

        return await asyncio.gather(*(one(password) for password in passwords))

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; an absent hash still costs one verification."""
        check = partial(self._verify_sync, password_hash or self._decoy, password, password_hash is not None)
        return await self._on_thread(check)

    async def _on_thread(self, work: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        self._running += 1
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        try:
            return await loop.run_in_executor(self._threads, work)
        finally:
            self._running -= 1
            if self._running == 0 and self._give_back:
                self._idle = loop.call_later(IDLE_SECONDS, self._when_idle)

    def _when_idle(self) -> None:
        self._idle = None
        if self._running == 0:
            task = arenas.give_back(self._workers)
            for _ in range(self._workers):
                self._threads.submit(task)

    def needs_rehash(self, password_hash: str) -> bool:
        """True for anything but argon2id at the configured cost (imported hashes included)."""
        if not password_hash.startswith("$argon2id$"):
            return True
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def _verify_sync(self, password_hash: str, password: str, real: bool) -> bool:
        if not password_hash.startswith("$argon2"):
            return hashes.verify(password_hash, password) and real
        try:
            return self._hasher.verify(password_hash, password) and real
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

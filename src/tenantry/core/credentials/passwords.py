"""Password hashing with argon2id, computed off the event loop on a bounded number of threads.

Hashes imported from other systems (bcrypt, PBKDF2, scrypt, other argon2 variants) verify through
``hashes`` and are reported as needing a rehash, which sign-in then does with our parameters.
"""

import os

import anyio
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tenantry.core.credentials import hashes
from tenantry.settings import Settings


class Passwords:
    """Hashes and verifies passwords; at most ``concurrency`` hashes run at once, each on its own thread."""

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self._limiter = anyio.CapacityLimiter(settings.hash_concurrency or os.cpu_count() or 1)
        # Verified against when the account is unknown, so that a miss costs what a hit costs.
        self._decoy = self._hasher.hash(os.urandom(16).hex())

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hasher.hash, password, limiter=self._limiter)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; an absent hash still costs one verification."""
        return await anyio.to_thread.run_sync(
            self._verify_sync, password_hash or self._decoy, password, password_hash is not None, limiter=self._limiter
        )

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

"""Read-your-writes with read replicas: who wrote lately reads from the primary for a short while."""

import time

_MOST_PINS = 100_000
"""Callers remembered at once; beyond it the expired ones are dropped, then the oldest."""


class PrimaryPins:
    """Deadlines until which a caller (an opaque key: a digest of its credential) reads from the primary.

    In this process's memory: a caller whose next read lands on another process is pinned by the cookie the
    write answered with (``web.replicas``), not by this.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._until: dict[str, float] = {}

    def pin(self, key: str) -> float:
        """Pin ``key`` to the primary for ``seconds`` from now; answers the deadline (wall-clock seconds)."""
        if len(self._until) >= _MOST_PINS:
            self._forget_expired()
        deadline = time.time() + self.seconds
        self._until.pop(key, None)
        self._until[key] = deadline
        return deadline

    def pinned(self, key: str) -> bool:
        deadline = self._until.get(key)
        if deadline is None:
            return False
        if deadline > time.time():
            return True
        del self._until[key]
        return False

    def _forget_expired(self) -> None:
        now = time.time()
        self._until = {key: deadline for key, deadline in self._until.items() if deadline > now}
        while len(self._until) >= _MOST_PINS:
            del self._until[next(iter(self._until))]  # insertion order: the oldest pin first

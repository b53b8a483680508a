"""How far behind the primary each read replica is, so that reads skip one that lags past a bound.

A read on a replica is authorized there too: the credential, its session and the caller's rights are read in
the same statement as the data. A replica that lags would let a revoked key, an ended session or a removed
member go on reading for as long as it lags; past ``TENANTRY_DATABASE_REPLICA_MAX_LAG_SECONDS`` it answers no
read (the primary does), so a change reaches every read within that bound.

Lag is measured in the primary's WAL, not in time: every sample notes the primary's current position (a
*mark*), then asks each replica how far it has replayed. A replica is as recent as the latest mark it has
replayed past: it holds everything the primary had committed when that mark was taken. An idle primary writes
nothing, so a replica that replayed everything stays recent (``now() - pg_last_xact_replay_timestamp()``
would grow there without any lag). A server that is not a standby (``pg_last_wal_replay_lsn()`` is NULL)
replays no mark and answers no read.

Sampling runs off the request path: a read that finds the last sample older than a quarter of the bound (at
most a second) starts the next one in the background and is routed on what is known; a process that serves
no reads samples nothing. With the bound's default of 1 s, a replica that keeps up is at most half a second
plus its lag behind its latest mark, so it keeps answering.
"""

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Sequence

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("tenantry.database")

_LONGEST_INTERVAL = 1.0
"""Seconds between samples at most (a quarter of the bound when that is shorter)."""
_PRIMARY_POSITION = text("SELECT pg_current_wal_lsn()::text")
_REPLAYED_POSITION = text("SELECT coalesce(pg_last_wal_replay_lsn()::text, '')")
"""How far a replica has replayed; empty on a server that is not a standby."""


def wal_position(lsn: str) -> int:
    """A ``pg_lsn`` (``16/B374D848``) as a number, to compare."""
    high, low = lsn.split("/")
    return int(high, 16) << 32 | int(low, 16)


class ReplicaLag:
    """Whether each replica is recent enough to answer reads. Its engines (the primary's, then one per replica, each
    of one connection in autocommit) are its own: it disposes of them."""

    def __init__(self, primary: AsyncEngine, replicas: Sequence[AsyncEngine], max_lag_seconds: float) -> None:
        self.max_lag_seconds = max_lag_seconds
        self._interval = min(max_lag_seconds / 4, _LONGEST_INTERVAL)
        self._primary = primary
        self._recent_as_of = dict.fromkeys(replicas, -math.inf)
        """Per replica: when the latest mark it has replayed past was taken (``time.monotonic``)."""
        self._marks: deque[tuple[float, int]] = deque(maxlen=math.ceil(max_lag_seconds / self._interval) + 2)
        self._sampled_at = -math.inf
        self._sampling: asyncio.Task[None] | None = None
        self._not_standbys: set[AsyncEngine] = set()

    def recent(self, replica: AsyncEngine) -> bool:
        """Whether ``replica`` held, at its latest sample, everything the primary had committed
        ``max_lag_seconds`` ago; starts the next sample when it is due."""
        now = time.monotonic()
        if now - self._sampled_at >= self._interval and (self._sampling is None or self._sampling.done()):
            self._sampled_at = now
            self._sampling = asyncio.get_running_loop().create_task(self.sample(), name="tenantry-replica-lag")
        return now - self._recent_as_of[replica] <= self.max_lag_seconds

    async def sample(self) -> None:
        """Mark the primary's position, then note how far each replica has replayed."""
        taken = time.monotonic()
        position = await self._position(self._primary, _PRIMARY_POSITION)
        if position is None:  # the primary is away: no mark, and replicas age past the bound
            return
        self._marks.append((taken, wal_position(position)))
        await asyncio.gather(*(self._sample(replica) for replica in self._recent_as_of))

    async def _position(self, engine: AsyncEngine, statement: TextClause) -> str | None:
        """The position ``statement`` reads on ``engine``'s server; None when it cannot be read within the bound
        (a server that does not answer by then is of no use to it)."""
        try:
            async with asyncio.timeout(self.max_lag_seconds), engine.connect() as connection:
                position: str | None = await connection.scalar(statement)
                return position
        except Exception:
            log.debug("could not read a WAL position", exc_info=True)
            return None

    async def _sample(self, replica: AsyncEngine) -> None:
        replayed = await self._position(replica, _REPLAYED_POSITION)
        if replayed is None:  # away: it ages past the bound (and a read that tries it marks it down)
            return
        if not replayed:
            if replica not in self._not_standbys:
                self._not_standbys.add(replica)
                log.warning("a read replica is not a standby (it replays no WAL): it answers no read")
            return
        position = wal_position(replayed)
        for taken, mark in reversed(self._marks):
            if mark <= position:
                self._recent_as_of[replica] = max(self._recent_as_of[replica], taken)
                return

    async def close(self) -> None:
        """Stop a sample under way, then dispose of the engines."""
        if self._sampling is not None:
            self._sampling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampling
        for engine in (self._primary, *self._recent_as_of):
            await engine.dispose()

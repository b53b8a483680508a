"""Rate limits (the ``limits`` library): counters in memory, per process, or in Redis, shared by all."""

import math
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from tenantry.settings import Settings


def _storage_url(url: str) -> str:
    return url if url.startswith("async+") else f"async+{url}"


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        url = _storage_url(settings.rate_limit_storage_url)
        options = {"implementation": "redispy"} if url.startswith(("async+redis", "async+rediss")) else {}
        storage = storage_from_string(url, **options)
        self._limiter = MovingWindowRateLimiter(storage)
        self.password_reset = parse(settings.password_reset_rate_limit)

    async def hit(self, item: RateLimitItem, key: str) -> int | None:
        """Count one event for ``key``; None when allowed, else the seconds to wait before the next is."""
        if await self._limiter.hit(item, key):
            return None
        stats = await self._limiter.get_window_stats(item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

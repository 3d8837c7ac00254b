"""A fixed-window rate limit per client, counted in Redis so every intake process shares it.

    limiter = RateLimiter(redis, keys, limit=600, window_seconds=60)
    await limiter.check("tok:3f2a...")     # raises IntakeError 429 with Retry-After

The counter is ``RedisKeys.rate(client, window_number)``, INCR then EXPIRE in one round trip.
"""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from connectors.errors import IntakeError
from gridhub.keys import RedisKeys


class RateLimiter:
    """At most ``limit`` requests per client in each ``window_seconds`` window."""

    def __init__(
        self, redis: aioredis.Redis, keys: RedisKeys, limit: int, window_seconds: int
    ) -> None:
        self._redis = redis
        self._keys = keys
        self.limit = limit
        self.window = window_seconds

    async def check(self, client: str) -> None:
        """Count one request of ``client``; raise 429 when it is over the limit."""
        now = time.time()
        window = int(now // self.window)
        key = self._keys.rate(client, window)
        pipe = self._redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, self.window + 1)
        count, _ = await pipe.execute()
        if int(count) > self.limit:
            retry = max(1, int((window + 1) * self.window - now) + 1)
            raise IntakeError(
                429,
                "rate_limited",
                f"more than {self.limit} requests in {self.window} s from this client; "
                f"retry in {retry} s",
                None,
                headers={"Retry-After": str(retry)},
            )

"""Opening Redis the same way in every service.

    redis = open_redis(str(settings.redis_url))

A blocking pool waits (up to ``wait`` seconds) for a free connection instead of failing
with "Too many connections" under a burst, and sockets have no read timeout of their own,
so a long blocking command (BLMOVE waiting for a command result) is bounded by its own
timeout argument, not cut off by the client.
"""

from __future__ import annotations

import redis.asyncio as aioredis


def open_redis(url: str, max_connections: int = 256, wait: float = 10.0) -> aioredis.Redis:
    """A Redis client with a bounded, blocking connection pool."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=wait, socket_timeout=None
    )
    return aioredis.Redis(connection_pool=pool)

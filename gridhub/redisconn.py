"""Opening Redis the same way in every service.

    redis = open_redis(str(settings.redis_url))

A blocking pool waits (up to ``wait`` seconds) for a free connection instead of failing
with "Too many connections" under a burst, and sockets have no read timeout of their own,
so a long blocking command (BLMOVE waiting for a command result) is bounded by its own
timeout argument, not cut off by the client. A command that meets a connection closed by
the server is sent once more on a fresh connection: after Redis restarts, every pooled
connection is stale, and without that each one answered one API call with 503 after the
API was back (seen in tests/reliability/test_redis_wipe.py). The stream worker does not use
this client (its projection writes must not run twice).
"""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError


def open_redis(url: str, max_connections: int = 256, wait: float = 10.0) -> aioredis.Redis:
    """A Redis client with a bounded, blocking connection pool (see module doc)."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=wait,
        socket_timeout=None,
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError],
    )
    return aioredis.Redis(connection_pool=pool)

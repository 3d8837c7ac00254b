"""open_redis against a real redis-server that restarts: the pooled connection, closed by
the old server, is replaced for the next command instead of failing it."""

from __future__ import annotations

import pytest

from gridhub.redisconn import open_redis
from tests.support.private_redis import PrivateRedis

pytestmark = pytest.mark.integration


async def test_a_command_after_a_redis_restart_goes_through() -> None:
    with PrivateRedis() as server:
        client = open_redis(server.url)
        try:
            await client.set("k", "v")
            server.stop(kill=True)
            server.start()  # same data dir, AOF on: the key is back
            assert await client.get("k") == b"v"
        finally:
            await client.aclose()

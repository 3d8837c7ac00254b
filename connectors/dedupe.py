"""Dedupe of (source, source id): the first submission claims the key, duplicates see it.

    claim = await dedupe.claim(source, source_id)
    if claim.new:
        try:
            await publish(...)
        except IntakeUnavailable:
            await dedupe.release(claim)        # a retry may publish again
            raise
        pipe = redis.pipeline(); await dedupe.confirm(claim, matter_id, pipe); await pipe.execute()

The key (``RedisKeys.dedupe``) is SET NX with TTL ``settings.dedupe_ttl_seconds``. Its value
is ``p:<nonce>:<epoch>`` while the Kafka write is in flight and ``d:<matter id>`` once Kafka
acknowledged it. A duplicate that finds a pending claim waits for it (it must not answer
2xx for a write that may still fail); a pending claim older than ``stale_after`` (its writer
died) is taken over, so nothing accepted can be blocked forever.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from connectors.errors import IntakeUnavailable
from gridhub.keys import RedisKeys

_IF_EQUAL_DELETE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_IF_EQUAL_SET = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL') return 1
end
return 0
"""


@dataclass(frozen=True)
class Claim:
    """The outcome of :meth:`Dedupe.claim`: ``new`` means this caller must publish."""

    key: str
    new: bool
    token: str = ""


class Dedupe:
    """Claims on ``RedisKeys.dedupe(source, source_id)``; one instance per process."""

    def __init__(
        self,
        redis: aioredis.Redis,
        keys: RedisKeys,
        ttl_seconds: int,
        *,
        wait_seconds: float = 8.0,
        stale_after: float = 60.0,
        retry_after: int = 5,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl = ttl_seconds
        self._wait = wait_seconds
        self._stale_after = stale_after
        self._retry_after = retry_after
        self._delete_if = redis.register_script(_IF_EQUAL_DELETE)
        self._set_if = redis.register_script(_IF_EQUAL_SET)

    async def claim(self, source: str, source_id: str) -> Claim:
        """Claim (source, source_id). ``new=False`` means an acknowledged copy exists.

        Raises :class:`IntakeUnavailable` when another copy is still being published after
        ``wait_seconds`` (the client should retry).
        """
        key = self._keys.dedupe(source, source_id)
        deadline = time.monotonic() + self._wait
        while True:
            token = f"p:{uuid.uuid4().hex}:{time.time():.3f}"
            if await self._redis.set(key, token, nx=True, ex=self._ttl):
                return Claim(key, True, token)
            raw = await self._redis.get(key)
            if raw is None:
                continue
            current = raw.decode() if isinstance(raw, bytes) else str(raw)
            if current.startswith("d:"):
                return Claim(key, False)
            if self._is_stale(current) and await self._set_if(keys=[key], args=[current, token]):
                return Claim(key, True, token)
            if time.monotonic() >= deadline:
                raise IntakeUnavailable(
                    "a submission with the same source id is still being published; retry",
                    self._retry_after,
                )
            await asyncio.sleep(0.05)

    def _is_stale(self, value: str) -> bool:
        try:
            started = float(value.rsplit(":", 1)[1])
        except (IndexError, ValueError):
            return True
        return time.time() - started > self._stale_after

    async def release(self, claim: Claim) -> None:
        """Undo a claim whose Kafka write failed, so a retry can publish."""
        if claim.new:
            await self._delete_if(keys=[claim.key], args=[claim.token])

    async def confirm(self, claim: Claim, matter_id: str, pipe: Pipeline) -> None:
        """Queue on ``pipe`` the mark that Kafka acknowledged ``matter_id`` for this claim."""
        await self._set_if(keys=[claim.key], args=[claim.token, f"d:{matter_id}"], client=pipe)

"""One process at a time: work done only by whichever process holds a Redis lock.

    leader = Leader(redis, keys.wallboard_feeder_lock(), feeder.run)
    task = asyncio.create_task(leader.run())    # campaigns for ever; works while it leads

Every process campaigns (after ``standby_seconds``, so a dedicated process started
alongside wins); the holder renews the lock (``LOCK_TTL_MS``) a few times per lifetime, and
when it dies another takes over within the lock's lifetime. A Redis error (Redis restarted,
say) ends the term, never the campaign.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger("wallboard.feeder")
LOCK_TTL_MS = 10_000

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Leader:
    """Runs ``work`` in whichever process holds a Redis lock (see the module doc)."""

    name = "leader"

    def __init__(
        self,
        redis: Any,
        lock_key: str,
        work: Callable[[], Coroutine[Any, Any, None]],
        retry_seconds: float = 2.0,
        standby_seconds: float = 0.0,
    ) -> None:
        self.redis = redis
        self.lock_key = lock_key
        self.work = work
        self.token = secrets.token_hex(8)
        self.retry_seconds = retry_seconds
        self.standby_seconds = standby_seconds
        self.leading = False
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    def _set_leading(self, leading: bool) -> None:
        self.leading = leading

    async def run(self) -> None:
        """Campaign for the lock forever; work while holding it."""
        await asyncio.sleep(self.standby_seconds)
        try:
            while True:
                try:
                    await self._term()
                except Exception as exc:  # Redis away: step down (done), campaign again
                    log.warning("%s: Redis failed (%r); campaigning again", self.name, exc)
                await asyncio.sleep(self.retry_seconds)
        finally:
            await self._give_up()

    async def _term(self) -> None:
        """Take the lock if it is free, and work until the lock is lost or the work ends."""
        key = self.lock_key
        if not await self.redis.set(key, self.token, nx=True, px=LOCK_TTL_MS):
            return
        self._set_leading(True)
        task = asyncio.create_task(self.work())
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=LOCK_TTL_MS / 3000)
                if not await self._renew(keys=[key], args=[self.token, LOCK_TTL_MS]):
                    log.warning("lost the %s lock; stepping down", self.name)
                    break
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            if task.done() and not task.cancelled() and task.exception():
                log.error("%s stopped: %r", self.name, task.exception())
            self._set_leading(False)
            await self._give_up()

    async def _give_up(self) -> None:
        with contextlib.suppress(Exception):
            await self._release(keys=[self.lock_key], args=[self.token])

"""Hub summaries (KPIs, units, ranking, trend), computed once per interval per hub for every
gateway, by one process.

A summary costs a few milliseconds of CPU and several Redis round trips (more on the first
read of a hub's 30-day trend), and under load every hub changes all the time. So gateways do
not compute them: each gateway records the hubs its screens watch (:func:`watched_key`,
refreshed every few seconds) and listens on a Redis pub/sub channel. One
:class:`Summarizer` (behind its own lock: ``python -m wallboard summarizer``, or next to the
feeder in a gateway) reads the delta stream to learn which hubs changed, and refreshes a
watched hub's summary when it changed (city and townships every second, the others every
5 s) and every 15 s regardless. It publishes ``<hub key>\\n<summary frame>``; each gateway
sends the frame as it is to the hub's screens, unless it is the one they already have.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Any

import orjson
import redis.asyncio as aioredis

from gridhub.domain.hierarchy import City
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from wallboard.protocol import HubRef
from wallboard.scope import hub_keys
from wallboard.snapshot import BoardReader

log = logging.getLogger("wallboard.summaries")
SUMMARY_INTERVAL = 1.0  # city and township boards that changed
SUMMARY_SLOW = 5.0  # village and department boards that changed
SUMMARY_REFRESH = 15.0  # every watched board regardless
WATCH_SECONDS = 5.0  # how often a gateway re-announces its hubs
WATCH_TTL = 30.0  # a hub nobody re-announced for this long is no longer summarized
CONCURRENCY = 8


def watched_key(settings: Settings) -> str:
    """Sorted set: hub key → when a gateway last said one of its screens watches it."""
    return f"{settings.redis_prefix}wb:watched"


def summarizer_lock(settings: Settings) -> str:
    """String (SET NX + PX): held by the one process that computes the summaries."""
    return f"{settings.redis_prefix}wb:summarizer"


def summaries_channel(settings: Settings) -> str:
    """Pub/sub channel of fresh summaries: ``<hub key>\\n<frame>``."""
    return f"{settings.redis_prefix}wb:summaries"


def hub_ref(key: str) -> HubRef | None:
    """The hub of a routing key (``city``, ``township:T01``...); None if malformed."""
    if key == "city":
        return HubRef("city")
    kind, _, code = key.partition(":")
    if kind in ("township", "village", "department") and code:
        return HubRef(kind, code)  # type: ignore[arg-type]
    return None


def encode_message(key: str, frame: bytes) -> bytes:
    return key.encode() + b"\n" + frame


def decode_message(data: bytes) -> tuple[str, bytes]:
    key, _, frame = data.partition(b"\n")
    return key.decode(), frame


class Summarizer:
    """Computes and publishes the summaries of watched hubs (see module doc)."""

    def __init__(self, settings: Settings, city: City, redis: aioredis.Redis) -> None:
        self.settings = settings
        self.city = city
        self.redis: Any = redis
        self.board = BoardReader(city, redis, RedisKeys(settings.redis_prefix), lambda: "0-0")
        self.dirty: set[str] = set()
        self._last: dict[str, float] = {}
        self._sent: dict[str, bytes] = {}

    def mark(self, keys: Iterable[str]) -> None:
        """Hubs whose boards changed (called by the feeder for every appended delta)."""
        self.dirty.update(keys)

    async def run(self) -> None:
        """Follow the stream and refresh due summaries every second until cancelled."""
        follower = asyncio.create_task(self._follow())
        try:
            while True:
                await asyncio.sleep(SUMMARY_INTERVAL)
                try:
                    await self.tick()
                except aioredis.RedisError as exc:
                    log.warning("summaries failed: %r", exc)
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower

    async def _follow(self) -> None:
        """Mark the hubs of every new delta in the stream as changed."""
        key = RedisKeys(self.settings.redis_prefix).wallboard_stream()
        reader: Any = self.redis.client()
        last = "$"
        try:
            while True:
                try:
                    answer = await reader.xread({key: last}, 1000, 1000)
                except (aioredis.ConnectionError, aioredis.TimeoutError) as exc:
                    log.warning("stream read failed: %r", exc)
                    await asyncio.sleep(1.0)
                    continue
                for _, entries in answer or ():
                    for entry_id, fields in entries:
                        self.mark(hub_keys(orjson.loads(fields[b"d"]), self.city))
                        last = entry_id
        finally:
            await reader.aclose()

    async def tick(self) -> None:
        """One round: compute and publish the summaries that are due."""
        now = time.monotonic()
        since = time.time() - WATCH_TTL
        watched = [
            k.decode()
            for k in await self.redis.zrangebyscore(watched_key(self.settings), since, "+inf")
        ]
        due: list[tuple[HubRef, bool]] = []
        for key in watched:
            hub = hub_ref(key)
            if hub is None:
                continue
            age = now - self._last.get(key, 0.0)
            pace = SUMMARY_INTERVAL if hub.kind in ("city", "township") else SUMMARY_SLOW
            if age >= SUMMARY_REFRESH or (key in self.dirty and age >= pace):
                due.append((hub, age >= SUMMARY_REFRESH))
        for hub, _ in due:
            self.dirty.discard(hub.key)
            self._last[hub.key] = now
        gate = asyncio.Semaphore(CONCURRENCY)
        await asyncio.gather(*(self._refresh(hub, forced, gate) for hub, forced in due))

    async def _refresh(self, hub: HubRef, forced: bool, gate: asyncio.Semaphore) -> None:
        """Compute one summary; publish it when it changed (and on every forced refresh, for
        gateways that started since)."""
        async with gate:
            try:
                aggregates = await self.board.aggregates(hub)
            except Exception as exc:
                log.warning("summary of %s failed: %r", hub.key, exc)
                return
            frame = orjson.dumps({"type": "summary", **aggregates})
            if not forced and frame == self._sent.get(hub.key):
                return
            self._sent[hub.key] = frame
            await self.redis.publish(
                summaries_channel(self.settings), encode_message(hub.key, frame)
            )

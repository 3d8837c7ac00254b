"""Rebuilding the Redis projections from Kafka (``gridhub rebuild``; automatic on an empty store).

Why a replay of the inputs: the projections of a record (timeline entries, KPI counters per
unit and department, alerts, queues) depend on the matter's state *after* that record, which
``matters.events`` alone does not carry. The worker's own pure :class:`~streams.processor.
Processor` recomputes exactly those steps from ``matters.intake`` + ``matters.commands``
(every ``DeadlineDue`` tick is on ``matters.commands``, so the replay is deterministic), and
they are written by the worker's own :class:`~streams.projections.Projector`: one projection
code path, live or rebuilt. Nothing is published to Kafka: the processor runs without
output records (``outputs=False``; dead letters are counted, the live worker sent them).

API tokens are restored too, first, from their own compacted topic
(:func:`gridhub.token_log.restore_tokens`): Redis is not their durable record either.

Then the matter table's changelog (compacted: each matter's latest state) is read: where it
holds a newer state than the replay reached (inputs gone by retention) that state wins for
the view and queues. The deadline index is computed from the final states
(:func:`~gridhub.domain.machine.pending_timers`) of the matters the changelog holds: a
matter a worker has not processed yet (its intake is in Kafka, its state is not in the
table) gets its timers when the worker processes it. Scheduling them here would let its
ticks reach the worker with, or before, its Accept. A marker key records the rebuild.

Hotspot alerts are not projected (see :mod:`.hotspots`); the replay counts the
sightings again (idempotent), so that the counts go on after Redis lost them.

    report = await rebuild(settings)            # clears the projection keys, then replays

The projection offset guard (``streams_offsets``) is written as live batches write it, so a
worker resuming below the rebuilt offsets does not project those records twice. Rebuild only
while no worker projects (the worker itself pauses its agent: :class:`ProjectionGuard`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
import redis.asyncio as aioredis

from gridhub.domain.machine import pending_timers
from gridhub.domain.matter import Matter
from gridhub.kafka_read import read_topics
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.token_log import restore_tokens
from gridhub.topics import Topics
from streams import codec
from streams.context import build_context
from streams.deadlines import DeadlineIndex
from streams.hotspots import HotspotCounter
from streams.processor import BatchResult, InRecord, MatterWork, Processor
from streams.projections import Projector
from streams.views import matter_view

log = logging.getLogger(__name__)

#: Key patterns (after the Redis prefix) that the projections own and a rebuild recreates.
PROJECTION_PATTERNS = ("m:*", "tl:*", "q:dept:*", "open:*", "kpi:*", "dl:*", "dli:*")
PROJECTION_KEYS = ("warnings", "streams:offsets")
LOCK_TTL_MS = 120_000


def lock_key(keys: RedisKeys) -> str:
    """String (SET NX PX): held by the process that is rebuilding."""
    return f"{keys.prefix}streams:rebuild:lock"


def changelog_topic(settings: Settings) -> str:
    """The compacted changelog of the worker's ``matters`` table (Faust's name for it)."""
    from streams.app import app_id  # lazy: streams.app imports faust

    return f"{app_id(settings)}-matters-changelog"


def workers_running(settings: Settings) -> bool:
    """Whether a stream worker is in its consumer group now (blocking; kafka-python admin)."""
    from kafka import KafkaAdminClient

    from streams.app import app_id

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="gridhub-cli")
    try:
        for group in admin.list_groups():
            if group.get("group_id") == app_id(settings):
                return group.get("group_state") not in ("Empty", "Dead")
        return False
    finally:
        admin.close()


@dataclass
class RebuildReport:
    """What a rebuild did, and how fast."""

    records: int = 0
    events: int = 0
    matters: int = 0
    dead_letters: int = 0
    timers: int = 0
    changelog_matters: int = 0
    changelog_newer: int = 0
    tokens: int = 0
    seconds: float = 0.0
    offsets: dict[str, int] = field(default_factory=dict)

    @property
    def records_per_second(self) -> float:
        """Input records replayed per second of wall time."""
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-able summary (the marker's value, the CLI's output)."""
        out = asdict(self)
        out["records_per_second"] = round(self.records_per_second, 1)
        return out


def merged_inputs(
    topics: Topics, raw: dict[tuple[str, int], list[Any]]
) -> dict[int, list[InRecord]]:
    """Per partition, intake and command records merged in the order the worker most likely
    saw them: each topic in offset order (as the worker reads it), the two merged by
    broker timestamp, intake first on a tie (a matter is accepted before it is acted on)."""
    out: dict[int, list[InRecord]] = {}
    for p in sorted({p for (_, p) in raw}):
        intake = raw.get((topics.intake, p), [])
        commands = raw.get((topics.commands, p), [])
        merged: list[InRecord] = []
        i = j = 0
        while i < len(intake) or j < len(commands):
            take_intake = j >= len(commands) or (i < len(intake) and intake[i][1] <= commands[j][1])
            name, row = (
                (topics.intake, intake[i]) if take_intake else (topics.commands, commands[j])
            )
            if take_intake:
                i += 1
            else:
                j += 1
            offset, _, key, value, headers = row
            merged.append(InRecord(name, p, offset, key, value, headers))
        out[p] = merged
    return out


async def clear_projections(redis: aioredis.Redis, keys: RedisKeys) -> int:
    """Delete every projection key of this prefix (never tokens, intake or wallboard keys)."""
    doomed = [keys.prefix + name for name in PROJECTION_KEYS]
    for pattern in PROJECTION_PATTERNS:
        async for key in redis.scan_iter(match=keys.prefix + pattern, count=2000):
            doomed.append(key.decode() if isinstance(key, bytes) else key)
    deleted = 0
    for start in range(0, len(doomed), 1000):
        deleted += int(await redis.unlink(*doomed[start : start + 1000]))
    return deleted


async def rebuild(
    settings: Settings,
    redis: aioredis.Redis | None = None,
    *,
    clear: bool = True,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RebuildReport:
    """Rebuild every projection of ``settings``' prefix from Kafka (see the module doc)."""
    started = time.perf_counter()
    own = redis is None
    client = redis if redis is not None else aioredis.from_url(str(settings.redis_url))
    keys, topics = RedisKeys(settings.redis_prefix), Topics.from_settings(settings)
    ctx = build_context(settings)  # its own context: live fallback-year notices stay live
    processor = Processor(ctx, topics, outputs=False)  # projections only
    projector = Projector(client, keys, ctx, max(600, settings.command_status_ttl_seconds))
    index = DeadlineIndex(client, keys)
    report = RebuildReport()
    try:
        # tokens first: the services authenticate again while the projections are rebuilt
        report.tokens = (await restore_tokens(settings, client, keys)).live
        raw = await read_topics(settings, [topics.intake, topics.commands])
        inputs = merged_inputs(topics, raw)
        total = sum(len(v) for v in inputs.values())
        if clear:
            await clear_projections(client, keys)
        states: dict[str, Matter] = {}
        partition_of: dict[str, int] = {}
        hotspots = HotspotCounter(
            client, keys, settings.hotspot_threshold, settings.hotspot_window_seconds
        )
        size = batch_size or settings.streams_batch_size
        for records in inputs.values():
            for start in range(0, len(records), size):
                batch = records[start : start + size]
                result = processor.process(batch, states.get)
                await hotspots.observe(result.sightings)  # the counts (alerts: not projected)
                result.results.clear()  # no API caller waits for a replayed command
                max_offsets: dict[str, int] = {}
                for r in batch:
                    tp = f"{r.topic}:{r.partition}"
                    max_offsets[tp] = max(max_offsets.get(tp, -1), r.offset)
                await projector.write(result, max_offsets)
                for work in result.works.values():
                    if work.state is not None:
                        states[work.matter_id] = work.state
                        partition_of[work.matter_id] = work.partition
                    report.events += sum(len(s.events) for s in work.steps)
                report.records += len(batch)
                report.dead_letters += result.dead_letters
                report.offsets.update(max_offsets)
                if progress is not None:
                    progress(report.records, total)
                await asyncio.sleep(0)  # inside the worker: let heartbeats run
        persisted = await _apply_changelog(settings, projector, states, partition_of, ctx, report)
        report.matters = len(states)
        by_partition: dict[int, list[Any]] = {}
        for matter_id, state in states.items():
            if matter_id not in persisted:
                continue  # not processed by a worker yet: it schedules them when it is
            timers = pending_timers(state, ctx)
            if timers:
                by_partition.setdefault(partition_of[matter_id], []).extend(timers)
                report.timers += len(timers)
        for partition, timers in by_partition.items():
            for start in range(0, len(timers), 5000):
                await index.schedule(partition, timers[start : start + 5000])
        report.seconds = time.perf_counter() - started
        await client.set(keys.projection_marker(), orjson.dumps(report.as_dict()))
        log.info("projections rebuilt: %s", report.as_dict())
        return report
    finally:
        if own:
            await client.aclose()


async def _apply_changelog(
    settings: Settings,
    projector: Projector,
    states: dict[str, Matter],
    partition_of: dict[str, int],
    ctx: Any,
    report: RebuildReport,
) -> set[str]:
    """Let the table changelog's state win where it is newer than the replay reached;
    returns the ids of the matters the changelog holds."""
    raw = await read_topics(settings, [changelog_topic(settings)])
    latest: dict[str, tuple[int, bytes]] = {}
    for (_, partition), rows in raw.items():
        for _, _, key, value, _ in rows:
            if key is None:
                continue
            if value is None:
                latest.pop(key.decode(), None)
            else:
                latest[key.decode()] = (partition, value)
    report.changelog_matters = len(latest)
    ladder = len(ctx.policy.ladder)
    result = BatchResult()
    for matter_id, (partition, value) in latest.items():
        state = codec.matter_from_bytes(value)
        known = states.get(matter_id)
        if known is not None and known.version >= state.version:
            continue
        work = MatterWork(matter_id, partition, known, state)
        work.view = matter_view(state, ladder)
        result.works[matter_id] = work
        states[matter_id] = state
        partition_of[matter_id] = partition
    report.changelog_newer = len(result.works)
    if result.works:
        await projector.write(result, {})
    return set(latest)


class ProjectionGuard:
    """Inside the worker: notices an empty projection store (marker missing) and rebuilds
    it before the agent projects anything more.

    The agent holds :attr:`lock` around each batch and :meth:`ensure` takes it, so a rebuild
    never interleaves with a live batch; a Redis lock keeps two workers from rebuilding at
    once (the other one waits for the marker). Checks cost one EXISTS, at most once per
    ``interval`` seconds.
    """

    def __init__(self, settings: Settings, redis: aioredis.Redis, interval: float = 1.0) -> None:
        self.settings = settings
        self.redis = redis
        self.keys = RedisKeys(settings.redis_prefix)
        self.interval = interval
        self.lock = asyncio.Lock()
        self._checked = 0.0
        self.rebuilds = 0

    async def ensure(self, locked: bool = False) -> None:
        """Rebuild if the marker is missing (``locked``: the caller already holds :attr:`lock`)."""
        now = time.monotonic()
        if now - self._checked < self.interval:
            return
        self._checked = now
        try:
            if await self.redis.exists(self.keys.projection_marker()):
                return
            if locked:
                await self._rebuild()
            else:
                async with self.lock:
                    await self._rebuild()
        except Exception as exc:  # Redis or Kafka away: the batch itself will retry
            log.warning("projection store check failed: %r", exc)
            self._checked = 0.0

    async def _rebuild(self) -> None:
        lock, token = lock_key(self.keys), str(time.time())
        while not await self.redis.exists(self.keys.projection_marker()):
            if await self.redis.set(lock, token, nx=True, px=LOCK_TTL_MS):
                try:
                    log.warning("projection store is empty: rebuilding it from Kafka")
                    report = await rebuild(self.settings, self.redis)
                    self.rebuilds += 1
                    log.warning("projection store rebuilt: %s", report.as_dict())
                finally:
                    if (await self.redis.get(lock)) == token.encode():
                        await self.redis.delete(lock)
                return
            await asyncio.sleep(0.5)  # another worker rebuilds; wait for its marker

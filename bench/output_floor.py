"""The pipeline's output floor: what the outputs a matter requires cost with no work at all.

The raw aiokafka loop (:mod:`bench.pipeline`) reads one record and writes one. A matter
makes about six records (two events, its department tasks, a wallboard delta, its
changelog entry) and a share of a batch's three Redis calls (hotspot count, projections,
then timers). This loop writes exactly those: each matter's real output records and its
batch's real Redis calls, made beforehand by the worker's own pure code
(:class:`~streams.processor.Processor`, :meth:`~streams.projections.Projector.plan` and
``plan_timers``; the hotspot count is the worker's :class:`~streams.hotspots.HotspotCounter`
call on the batch's sightings). While measuring, it only
consumes the intake records, hands each one's prepared records to the worker's
:class:`~streams.publisher.Publisher` and runs the prepared calls of each :data:`CHUNK`
matters consumed. It decodes nothing, routes nothing, computes no deadline.

Outputs go to mirror topics under the prefix ``<run prefix>floor.`` and to Redis keys under
``<run prefix>floor:``, so nothing of the running system sees them; the changelog entries
go to the mirror of ``matters.commands`` (same partition count, read by nobody).

    rate, cpu_us, redis_us = await measure_floor(settings, records)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

from bench.support import baseline_clients, cleanup, create_topics, redis_cpu_seconds
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics
from streams import codec
from streams.context import build_context
from streams.hotspots import HotspotCounter
from streams.processor import InRecord, Processor, Sighting
from streams.projections import Projector
from streams.publisher import Publisher, Row

#: Matters per prepared projection call (the worker's batches are of this order).
CHUNK = 1000

#: One CHUNK's Redis work: its sightings to count, then its prepared projection calls.
Plan = tuple[list[Sighting], list[list[bytes]]]


def _mirror(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "topic_prefix": f"{settings.topic_prefix}floor.",
            "redis_prefix": f"{settings.redis_prefix}floor:",
        }
    )


def _prepare(
    settings: Settings, mirror: Settings, records: Sequence[tuple[bytes, bytes, Any]]
) -> tuple[dict[bytes, list[Row]], list[Plan], Projector, aioredis.Redis]:
    """Every matter's output rows by intake key, and the Redis calls of each CHUNK."""
    real, floor = Topics.from_settings(settings), Topics.from_settings(mirror)
    cut = len(real.prefix)
    ctx = build_context(settings)
    processor = Processor(ctx, real)
    redis = aioredis.from_url(str(settings.redis_url))
    projector = Projector(redis, RedisKeys(mirror.redis_prefix), ctx)
    rows: dict[bytes, list[Row]] = {}
    plans: list[Plan] = []
    for start in range(0, len(records), CHUNK):
        chunk = [
            InRecord(real.intake, 0, offset, key, value, headers)
            for offset, (key, value, headers) in enumerate(records[start : start + CHUNK], start)
        ]
        result = processor.process(chunk, lambda _: None)
        for topic, r in result.records + result.urgent:
            rows.setdefault(r.key or b"", []).append(
                (floor.prefix + topic[cut:], r.key, r.value, r.headers, None)
            )
        for work in result.works.values():
            key = work.matter_id.encode()
            state = codec.matter_bytes(work.state) if work.state is not None else None
            rows.setdefault(key, []).append((floor.commands, key, state, None, None))
        offsets = {f"{real.intake}:0": start + len(chunk) - 1}
        timers = projector.plan_timers(result)  # the worker's second call, made after the first
        calls = [projector.plan(result, offsets, {}), *([timers] if timers else [])]
        plans.append((result.sightings, calls))
    return rows, plans, projector, redis


async def _in_order(projector: Projector, hotspots: HotspotCounter, plan: Plan) -> None:
    sightings, calls = plan
    await hotspots.observe(sightings)
    for call in calls:
        await projector.apply(call)


async def measure_floor(
    settings: Settings, records: Sequence[tuple[bytes, bytes, Any]]
) -> tuple[float, float, float]:
    """Run the floor over intake ``records`` (key, value, headers): (matters/s, this
    process's CPU µs per matter, Redis server CPU µs per matter). They are written to the
    mirror's intake topic first."""
    mirror = _mirror(settings)
    create_topics(mirror)
    intake = Topics.from_settings(mirror).intake
    rows, plans, projector, redis = _prepare(settings, mirror, records)
    hotspots = HotspotCounter(
        redis,
        RedisKeys(mirror.redis_prefix),
        settings.hotspot_threshold,
        settings.hotspot_window_seconds,
    )
    consumer, producer = baseline_clients(settings, intake)
    publisher = Publisher(lambda: producer)
    await producer.start()
    try:
        await publisher.publish((intake, k, v, h, None) for k, v, h in records)
        await consumer.start()
        n, seen, projected = len(records), 0, 0
        started, cpu = time.monotonic(), time.process_time()
        redis_cpu = await redis_cpu_seconds(redis)
        while seen < n:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            out: list[Row] = []
            for consumed in batch.values():
                for r in consumed:
                    out += rows[r.key or b""]
                seen += len(consumed)
            pending = [publisher.publish(out)] if out else []
            due = len(plans) if seen >= n else seen // CHUNK
            while projected < due:
                pending.append(_in_order(projector, hotspots, plans[projected]))
                projected += 1
            await asyncio.gather(*pending)
        elapsed = time.monotonic() - started
        own = (time.process_time() - cpu) / n * 1e6
        server = (await redis_cpu_seconds(redis) - redis_cpu) / n * 1e6
        return n / elapsed, own, server
    finally:
        await consumer.stop()
        await producer.stop()
        await redis.aclose()
        await cleanup(mirror)

"""Do the live projections equal what a clean rebuild from Kafka gives? (They must converge.)

    diffs = await projection_diff(settings)      # rebuilds into a scratch prefix, compares
    assert not diffs, diffs[:10]

The rebuild (:mod:`streams.rebuild`) replays the same Kafka topics into another Redis
prefix; every projection key (views, contacts, timelines, KPI counters, queues, hub sets,
warnings, deadline index) is then compared value by value.
"""

from __future__ import annotations

import uuid
from typing import Any

import redis.asyncio as aioredis

from gridhub.settings import Settings
from streams.rebuild import PROJECTION_PATTERNS, RebuildReport, rebuild
from tests.support.system import System

SKIP = ("streams:offsets", "streams:projected", "streams:rebuild:lock", "dli:")


async def projected_count(system: System, ids: list[str]) -> int:
    """How many of ``ids`` have their matter view in the system's Redis."""
    redis = system.redis()
    try:
        total = 0
        for start in range(0, len(ids), 1000):
            keys = [system.keys.matter(i) for i in ids[start : start + 1000]]
            total += sum(1 for v in await redis.mget(keys) if v is not None)
        return total
    finally:
        await redis.aclose()


async def dump_projections(redis: aioredis.Redis, prefix: str) -> dict[str, Any]:
    """Every projection key of ``prefix`` (prefix stripped) with its value, comparable."""
    out: dict[str, Any] = {}
    names: list[str] = ["warnings"]
    for pattern in PROJECTION_PATTERNS:
        async for key in redis.scan_iter(match=prefix + pattern, count=2000):
            names.append((key.decode() if isinstance(key, bytes) else key)[len(prefix) :])
    for name in sorted(set(names)):
        if name.startswith(SKIP):
            continue
        key = prefix + name
        found: Any = await redis.type(key)
        kind = found.decode() if isinstance(found, bytes) else str(found)
        if kind == "string":
            out[name] = await redis.get(key)
        elif kind == "list":
            out[name] = await redis.lrange(key, 0, -1)
        elif kind == "hash":
            out[name] = dict(await redis.hgetall(key))
        elif kind == "zset":
            out[name] = sorted(await redis.zrange(key, 0, -1, withscores=True))
        elif kind == "set":
            out[name] = sorted(await redis.smembers(key))
    return out


async def projection_diff(
    settings: Settings, redis: aioredis.Redis
) -> tuple[list[str], RebuildReport]:
    """Rebuild ``settings``' topics into a scratch prefix and list every key that differs
    from the live projections (empty when they converged); the scratch keys are deleted."""
    scratch = f"rb{uuid.uuid4().hex[:8]}:"
    report = await rebuild(settings.model_copy(update={"redis_prefix": scratch}), redis)
    try:
        live = await dump_projections(redis, settings.redis_prefix)
        rebuilt = await dump_projections(redis, scratch)
    finally:
        async for key in redis.scan_iter(match=scratch + "*", count=2000):
            await redis.unlink(key)
    diffs = [f"only live: {k}" for k in sorted(set(live) - set(rebuilt))]
    diffs += [f"only rebuilt: {k}" for k in sorted(set(rebuilt) - set(live))]
    for name in sorted(set(live) & set(rebuilt)):
        if live[name] != rebuilt[name]:
            diffs.append(
                f"differs: {name}: live={live[name]!r:.300} rebuilt={rebuilt[name]!r:.300}"
            )
    return diffs, report

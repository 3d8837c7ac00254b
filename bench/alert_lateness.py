"""Alert lateness with 1,000,000 open deadlines: ``python -m bench.alert_lateness [--quick]``.

The deadline index of the real stream worker (:mod:`bench.system`) is filled with 1,000,000
far-future deadlines (``--quick``: 20,000), spread over the partitions, so every claim works
against a full index. Then matters of the bench city's BENCH-FAST category (sign-for 4 s,
resolve 8 s) go through intake into the worker; each produces a yellow (80 %) and a red
warning per deadline within seconds (``--quick``: 50 matters and only their sign-for
warnings, due within 4 s; the full run: 1,500 matters and both deadlines). The lateness of
one alert is the time it arrives on ``alerts`` (read by a consumer here) minus its due
time. The physical-limit baseline is the same consumer's end-to-end delay for a record
produced straight onto a topic (the floor any alert must pay). Target: p99 < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import orjson
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.support import Phases, pct
from bench.system import FAST_CATEGORY, GRID, BenchSystem, own_or_shared
from gridhub.domain.sla import RESOLVE, SIGN_FOR
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from tests.streams.support import intake_matter, intake_record, publish

_phase = Phases("alert_lateness")


async def _fill_index(settings: Settings, redis: aioredis.Redis, count: int) -> None:
    """``count`` deadlines due a day or more from now, for matters that never fire."""
    keys = RedisKeys(settings.redis_prefix)
    base = time.time() + 86400
    per = count // settings.topic_partitions
    for p in range(settings.topic_partitions):
        for start in range(0, per, 20_000):
            chunk = {
                f"MFILL{p}X{i}:resolve:1:red": base + i
                for i in range(start, min(per, start + 20_000))
            }
            await redis.zadd(keys.deadlines(p), chunk)


async def _floor(settings: Settings, topic: str, n: int) -> list[float]:
    """Produce→consume delay of plain records on this machine right now (seconds)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="latest",
        fetch_max_wait_ms=20,
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await consumer.start()
    await producer.start()
    delays: list[float] = []
    try:
        await asyncio.sleep(0.5)
        for _ in range(n):
            await producer.send_and_wait(topic, orjson.dumps({"t": time.time()}))
            async with asyncio.timeout(5):
                msg = await consumer.getone()
            delays.append(time.time() - orjson.loads(msg.value)["t"])
    finally:
        await producer.stop()
        await consumer.stop()
    return delays


async def _lateness(
    settings: Settings, matters: int, kinds: tuple[str, ...], within: float
) -> list[float]:
    """Publish ``matters`` TEST-FAST intakes; the lateness of each of their yellow and red
    warnings of the deadline ``kinds`` (seconds)."""
    topic = f"{settings.topic_prefix}alerts"
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
        group_id=None,
    )
    await consumer.start()
    now = datetime.now(UTC)
    batch = [
        intake_matter(category=FAST_CATEGORY, grid=GRID, received_at=now) for _ in range(matters)
    ]
    ours = {m.matter_id for m in batch}
    records = [intake_record(m) for m in batch]
    await asyncio.to_thread(publish, settings, f"{settings.topic_prefix}matters.intake", records)
    want = matters * 2 * len(kinds)  # yellow and red of each deadline
    late: list[float] = []
    seen: set[str] = set()
    deadline = time.monotonic() + within
    try:
        while len(late) < want and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=100, max_records=5000)
            arrived = time.time()
            for msgs in batch.values():
                for m in msgs:
                    alert = orjson.loads(m.value)
                    if alert.get("level") not in ("yellow", "red") or alert["id"] in seen:
                        continue
                    if alert.get("kind") not in kinds or alert.get("matter_id") not in ours:
                        continue
                    seen.add(alert["id"])
                    due = datetime.fromisoformat(alert["due_at"]).timestamp()
                    late.append(arrived - due)
    finally:
        await consumer.stop()
    if len(late) < want:
        raise RuntimeError(f"only {len(late)} of {want} alerts arrived within {within:.0f} s")
    return late


async def _run(
    quick: bool, shared: BenchSystem | None, fill: int | None = None
) -> list[dict[str, Any]]:
    """The benchmark; ``fill``: open deadlines to put in the index (default by ``quick``)."""
    _phase.reset()
    fill = fill or (20_000 if quick else 1_000_000)
    matters = 50 if quick else 1500
    kinds = (SIGN_FOR,) if quick else (SIGN_FOR, RESOLVE)
    async with own_or_shared(shared, "alert_lateness") as bench:
        settings, keys = bench.settings, bench.keys
        redis = bench.system.redis()
        try:

            async def timed_fill() -> float:
                started = time.monotonic()
                await _fill_index(settings, redis, fill)
                return time.monotonic() - started

            bench.prepare()
            # the worker starts meanwhile (it claims only deadlines that are due)
            fill_seconds, _ = await asyncio.gather(timed_fill(), bench.up("streams"))
            _phase(f"worker up, {fill:,} deadlines in the index")
            floor_topic = f"{settings.topic_prefix}bench.floor"  # created on first use
            floor = await _floor(settings, floor_topic, 20 if quick else 50)
            _phase("floor measured")
            late = await _lateness(settings, matters, kinds, within=60 + matters / 50)
            _phase("alerts in")
            open_now = sum(
                [await redis.zcard(keys.deadlines(p)) for p in range(settings.topic_partitions)]
            )
        finally:
            await redis.aclose()
    return [
        {
            "name": "open deadlines in the index",
            "value": open_now,
            "unit": "deadlines",
            "target": fill,
        },
        {
            "name": "index fill rate",
            "value": round(fill / fill_seconds),
            "unit": "deadlines/s",
            "target": None,
        },
        {
            "name": f"alerts measured ({' and '.join(kinds)}, yellow and red)",
            "value": len(late),
            "unit": "alerts",
            "target": None,
        },
        {
            "name": "alert lateness p50",
            "value": round(statistics.median(late) * 1000, 1),
            "unit": "ms",
            "target": None,
            "baseline": round(statistics.median(floor) * 1000, 1),
        },
        {
            "name": "alert lateness p99",
            "value": round(pct(late, 0.99, 1000), 1),
            "unit": "ms",
            "target": "< 1000",
            "baseline": round(pct(floor, 0.99, 1000), 1),
        },
        {
            "name": "alert lateness max",
            "value": round(max(late) * 1000, 1),
            "unit": "ms",
            "target": None,
        },
    ]


def main(quick: bool = False, system: BenchSystem | None = None) -> list[dict[str, Any]]:
    """Run the benchmark; entries as documented in :mod:`bench`; ``system``: a running one
    to use (else it starts its own worker)."""
    return asyncio.run(_run(quick, system))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    for entry in main(parser.parse_args().quick):
        print(entry)

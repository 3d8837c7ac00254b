"""Alert lateness with 1,000,000 open deadlines: ``python -m bench.alert_lateness [--quick]``.

The deadline index is filled with 1,000,000 far-future deadlines (quick: 50,000), spread
over the partitions, so every claim works against a full index. Then matters of the test
city's TEST-FAST category (sign-for 4 s, resolve 8 s) go through intake into the real
stream worker; each produces a yellow and a red warning per deadline within seconds. The
lateness of one alert is the time it arrives on ``alerts`` (read by a consumer here)
minus its due time. The physical-limit baseline is the same consumer's end-to-end delay
for a record produced straight onto a topic (the floor any alert must pay).
Target: p99 < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.pipeline import _mark_store_complete
from gridhub.keys import RedisKeys
from gridhub.settings import Settings, load_settings
from tests.conftest import FAST_CITY
from tests.streams.support import (
    drop_topics,
    intake_matter,
    intake_record,
    prepare_topics,
    publish,
    start_worker,
    stop_worker,
)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


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


async def _lateness(settings: Settings, matters: int, within: float) -> list[float]:
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
    records = [
        intake_record(intake_matter(category="TEST-FAST", received_at=now)) for _ in range(matters)
    ]
    await asyncio.to_thread(publish, settings, f"{settings.topic_prefix}matters.intake", records)
    want = matters * 4  # sign-for and resolve, yellow and red
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
                    seen.add(alert["id"])
                    due = datetime.fromisoformat(alert["due_at"]).timestamp()
                    late.append(arrived - due)
    finally:
        await consumer.stop()
    if len(late) < want:
        raise RuntimeError(f"only {len(late)} of {want} alerts arrived within {within:.0f} s")
    return late


async def _run(quick: bool) -> list[dict[str, Any]]:
    fill = 50_000 if quick else 1_000_000
    matters = 100 if quick else 1500
    unique = uuid.uuid4().hex[:8]
    settings = load_settings().model_copy(
        update={
            "topic_prefix": f"bench{unique}.",
            "redis_prefix": f"bench{unique}:",
            "city_file": FAST_CITY,
        }
    )
    prepare_topics(settings)
    redis = aioredis.from_url(str(settings.redis_url))
    keys = RedisKeys(settings.redis_prefix)
    proc = None
    try:
        t0 = time.monotonic()
        await _fill_index(settings, redis, fill)
        fill_seconds = time.monotonic() - t0
        await _mark_store_complete(settings)  # else the empty-store guard would rebuild
        with tempfile.TemporaryDirectory() as data_dir:
            proc = start_worker(settings, Path(data_dir), f"bench-alerts-{unique}")
            warm = intake_matter(category="LIV-HEATING")
            await asyncio.to_thread(
                publish, settings, f"{settings.topic_prefix}matters.intake", [intake_record(warm)]
            )
            for _ in range(600):  # until the worker has projected the warm-up matter
                if await redis.exists(keys.matter(warm.matter_id)):
                    break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the stream worker did not start within 60 s")
            floor = await _floor(settings, f"{settings.topic_prefix}bench.floor", 50)
            late = await _lateness(settings, matters, within=60 + matters / 50)
            open_now = sum(
                [await redis.zcard(keys.deadlines(p)) for p in range(settings.topic_partitions)]
            )
    finally:
        if proc is not None:
            stop_worker(proc)
        drop_topics(settings)
        async for key in redis.scan_iter(match=f"{settings.redis_prefix}*", count=5000):
            await redis.delete(key)
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
        {"name": "alerts measured", "value": len(late), "unit": "alerts", "target": None},
        {
            "name": "alert lateness p50",
            "value": round(statistics.median(late) * 1000, 1),
            "unit": "ms",
            "target": None,
            "baseline": round(statistics.median(floor) * 1000, 1),
        },
        {
            "name": "alert lateness p99",
            "value": round(_pct(late, 0.99) * 1000, 1),
            "unit": "ms",
            "target": "< 1000",
            "baseline": round(_pct(floor, 0.99) * 1000, 1),
        },
        {
            "name": "alert lateness max",
            "value": round(max(late) * 1000, 1),
            "unit": "ms",
            "target": None,
        },
    ]


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Run the benchmark; entries as documented in :mod:`bench`."""
    return asyncio.run(_run(quick))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    for entry in main(parser.parse_args().quick):
        print(entry)

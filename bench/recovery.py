"""Recovery benchmark: how fast the pipeline comes back after ``kill -9``, and how fast the
Redis projections are rebuilt from Kafka.

    python -m bench.recovery [--quick]

Pre-loads N intake records (department-tier categories) into a fresh topic prefix, starts
the real worker, SIGKILLs it once about a third of the department records exist, restarts
it at once, and measures (a) restart → department records flowing again, (b) kill → lag
back to zero (every department record there). Then :func:`streams.rebuild.rebuild` rebuilds
every projection into a scratch Redis prefix from the same topics: records/s and events/s,
against the baseline of merely reading those topics. ``main(quick)`` returns entries
``{name, value, unit, target, baseline?}``; topics and keys are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.pipeline import ROOT, _preload, _records
from gridhub.citydata import load_city
from gridhub.kafka_admin import all_topics, delete_topics_with_prefix, ensure_topics
from gridhub.settings import Settings, load_settings
from gridhub.topics import Topics
from streams.rebuild import read_topics, rebuild

#: Targets: back within a consumer-group session timeout, and a rebuild of a year of Shulan
#: (~15,000 matters, ~150,000 input records) within a few minutes.
TARGET_BACK_S = 15.0
TARGET_REBUILD = 1000.0


def _start(settings: Settings, data_dir: str) -> subprocess.Popen[bytes]:
    """Start ``python -m streams worker`` in its own session (so a kill takes its children)."""
    env = {
        **os.environ,
        "GRIDHUB_TOPIC_PREFIX": settings.topic_prefix,
        "GRIDHUB_REDIS_PREFIX": settings.redis_prefix,
        "GRIDHUB_CITY_FILE": str(settings.city_file),
        "GRIDHUB_STREAMS_WEB": "false",
        "GRIDHUB_STREAMS_DATA_DIR": data_dir,
        "GRIDHUB_LOG_LEVEL": "WARNING",
    }
    log = (ROOT / ".local" / "bench-recovery-worker.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "streams", "worker"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )


async def _kill_and_restart(settings: Settings, expected: int) -> tuple[float, float]:
    """(restart → processing again, kill → lag zero), in seconds."""
    city = load_city(settings.city_file)
    topics = Topics.from_settings(settings)
    parts = [
        TopicPartition(topics.department(d), p)
        for d in city.departments
        for p in range(settings.topic_partitions)
    ]
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None)
    await consumer.start()
    data_dir = tempfile.mkdtemp(prefix="gridhub-bench-recovery-")
    proc = _start(settings, data_dir)

    async def total() -> int:
        return int(sum((await consumer.end_offsets(parts)).values()))

    try:
        deadline = time.monotonic() + 600
        while await total() < expected // 3:
            assert time.monotonic() < deadline and proc.poll() is None, "worker not processing"
            await asyncio.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        killed = time.monotonic()
        await asyncio.sleep(1.0)  # end offsets settle: nothing more comes from the dead worker
        at_kill = await total()
        proc = _start(settings, data_dir)
        restarted = time.monotonic()
        back: float | None = None
        while (now_total := await total()) < expected:
            if back is None and now_total > at_kill:
                back = time.monotonic() - restarted
            assert time.monotonic() - killed < 600, "no lag-zero within 600 s"
            await asyncio.sleep(0.05)
        done = time.monotonic()
        return (back if back is not None else done - restarted), done - killed
    finally:
        await consumer.stop()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()


async def _run(quick: bool) -> list[dict[str, Any]]:
    n = 3_000 if quick else 20_000
    tag = uuid.uuid4().hex[:8]
    settings = load_settings(topic_prefix=f"benchrc{tag}.", redis_prefix=f"benchrc{tag}:")
    topics = Topics.from_settings(settings)
    ensure_topics(settings, all_topics(topics, load_city(settings.city_file)))
    scratch = settings.model_copy(update={"redis_prefix": f"benchrb{tag}:"})
    redis = aioredis.from_url(str(settings.redis_url))
    try:
        records, expected = _records(settings, n)
        await _preload(settings, topics.intake, records)
        back, lag_zero = await _kill_and_restart(settings, expected)
        started = time.perf_counter()
        raw = await read_topics(settings, [topics.intake, topics.commands])
        read_rate = sum(len(v) for v in raw.values()) / (time.perf_counter() - started)
        report = await rebuild(scratch, redis, clear=False)  # a fresh prefix: nothing to clear
    finally:
        delete_topics_with_prefix(settings, settings.topic_prefix)
        for prefix in (settings.redis_prefix, scratch.redis_prefix):
            async for key in redis.scan_iter(match=f"{prefix}*", count=5000):
                await redis.unlink(key)
        await redis.aclose()
    events_rate = report.events / report.seconds if report.seconds else 0.0
    return [
        {
            "name": "kill -9 → worker processing again",
            "value": round(back, 1),
            "unit": "s",
            "target": TARGET_BACK_S,
        },
        {"name": "kill -9 → lag back to zero", "value": round(lag_zero, 1), "unit": "s",
         "target": None},
        {
            "name": "projection rebuild (input records)",
            "value": round(report.records_per_second),
            "unit": "records/s",
            "target": TARGET_REBUILD,
            "baseline": round(read_rate),
        },
        {"name": "projection rebuild (events)", "value": round(events_rate), "unit": "events/s",
         "target": None},
    ]  # fmt: skip


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Run the recovery benchmark; ``quick`` uses 3,000 matters instead of 20,000."""
    return asyncio.run(_run(quick))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    for entry in main(parser.parse_args().quick):
        print(f"{entry['name']}: {entry['value']} {entry['unit']} (target {entry['target']})")

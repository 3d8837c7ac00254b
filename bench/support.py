"""Small helpers shared by the benchmarks: fresh names, clean-up, percentiles, /proc readings.

settings = fresh_settings("pipe")            # topic and Redis prefixes of this run only
...
await cleanup(settings)                      # its topics and keys are gone again
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic

from gridhub.citydata import load_city
from gridhub.kafka_admin import all_topics, delete_topics_with_prefix
from gridhub.keys import RedisKeys
from gridhub.settings import Settings, load_settings
from gridhub.topics import Topics

ROOT = Path(__file__).resolve().parent.parent
#: Where benchmarks keep the logs of the processes they start (the last run's only).
LOGS = ROOT / ".local" / "bench"


class Phases:
    """Progress of one benchmark on stderr, with the seconds since it began (the entries go
    to the table): ``phase = Phases("pipeline"); phase("worker up")``."""

    def __init__(self, bench: str) -> None:
        self.bench = bench
        self.started = time.monotonic()

    def reset(self) -> None:
        """Count from now."""
        self.started = time.monotonic()

    def __call__(self, what: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{self.bench} {elapsed:5.1f} s] {what}", file=sys.stderr, flush=True)


def fresh_settings(kind: str, **update: Any) -> Settings:
    """The environment's settings with topic and Redis prefixes unique to this run."""
    tag = f"bench{kind}{uuid.uuid4().hex[:8]}"
    return load_settings().model_copy(
        update={"topic_prefix": f"{tag}.", "redis_prefix": f"{tag}:", **update}
    )


def create_topics(
    settings: Settings, extra: Sequence[str] = (), partitions: int | None = None
) -> Topics:
    """Create every topic of the system (and ``extra``) for a fresh prefix in one request.

    ``gridhub.kafka_admin.ensure_topics`` creates them one request at a time, which takes
    2–5 s for the 50 topics of the reference city on this machine; one request takes ~0.1 s.
    Returns once every partition is ready.
    """
    topics = Topics.from_settings(settings)
    names = [*all_topics(topics, load_city(settings.city_file)), *extra]
    count = partitions or settings.topic_partitions
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="gridhub-bench")
    try:
        admin.create_topics([NewTopic(name, count, settings.replication_factor) for name in names])
    finally:
        admin.close()
    # Ready means every partition answers a ListOffsets (the consumer retries until then);
    # producers would otherwise log "NotLeaderForPartitionError, retrying" for a while.
    probe = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, client_id="gridhub-bench")
    try:
        probe.end_offsets([TopicPartition(name, p) for name in names for p in range(count)])
    finally:
        probe.close()
    return topics


async def cleanup(settings: Settings, *more_prefixes: str) -> None:
    """Delete the run's topics (changelogs included: they share the prefix) and Redis keys."""
    with contextlib.suppress(Exception):
        delete_topics_with_prefix(settings, settings.topic_prefix)
    redis = aioredis.from_url(str(settings.redis_url))
    try:
        for prefix in (settings.redis_prefix, *more_prefixes):
            doomed = [key async for key in redis.scan_iter(match=f"{prefix}*", count=10_000)]
            for start in range(0, len(doomed), 5000):
                await redis.unlink(*doomed[start : start + 5000])
    finally:
        await redis.aclose()


def mark_store_complete(settings: Settings) -> None:
    """Tell the worker that the fresh Redis prefix is a complete (empty) projection store, so
    its empty-store guard does not first rebuild it from the topics."""
    client = redis.Redis.from_url(str(settings.redis_url))
    try:
        client.set(RedisKeys(settings.redis_prefix).projection_marker(), b'{"bench": true}')
    finally:
        client.close()


async def wait_group_stable(
    settings: Settings, group: str, members: int, alive: Callable[[], bool], within: float = 120.0
) -> None:
    """Return once consumer group ``group`` is Stable with ``members`` members (every worker
    has joined and holds its partitions); ``alive()``: whether the workers still run."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + within
        state = None
        while time.monotonic() < deadline:
            if not alive():
                raise RuntimeError("a worker exited before its consumer group was stable")
            [response] = await admin.describe_consumer_groups([group])
            _, _, name, _, _, joined = response.groups[0][:6]
            state = (name, len(joined))
            if state == ("Stable", members):
                return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"group {group} not stable with {members} members: {state}")
    finally:
        await admin.close()


async def offsets_reader(settings: Settings, topics: Sequence[str]) -> AIOKafkaConsumer:
    """A started consumer (no group) that knows the metadata of ``topics``, so its first
    ``end_offsets`` over them answers at once (cold, aiokafka fetches metadata topic by
    topic with a back-off: ~4 s for the 44 department topics). The caller stops it."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None)
    await consumer.start()
    await consumer._client.set_topics(list(topics))  # as streams.rebuild.read_topics does
    return consumer


def pct(values: Sequence[float], q: float, scale: float = 1.0) -> float:
    """The ``q`` quantile (nearest rank) of ``values`` times ``scale``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * scale


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; 0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def broker_pid() -> int | None:
    """The pid of the Kafka broker ``scripts/kafka.sh`` started (None if it did not: its
    CPU is then not measured)."""
    pidfile = ROOT / ".local" / "kafka" / "kafka.pid"
    with contextlib.suppress(OSError, ValueError):
        pid = int(pidfile.read_text().strip())
        if Path(f"/proc/{pid}").exists():
            return pid
    return None


async def redis_cpu_seconds(client: aioredis.Redis) -> float:
    """CPU seconds the Redis server's main process has used so far (``INFO cpu``)."""
    info = await client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def rss_kib(pid: int) -> int:
    """Resident memory of a process in KiB (0 when it is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def baseline_clients(settings: Settings, source: str) -> tuple[AIOKafkaConsumer, AIOKafkaProducer]:
    """The consumer (of ``source``, from its start, no group) and the producer of the
    baseline loops, configured alike so their figures compare (not started)."""
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, linger_ms=5, max_batch_size=512 * 1024
    )
    return consumer, producer

"""Pipeline benchmark: intake matters/s through the real stream worker to department topics.

    python -m bench.pipeline [--quick] [--workers N] [--matters N]

Publishes N intake records (department-tier categories of the reference city, so every
matter is routed to one or more ``dept.<code>`` topics; 50,000, ``--quick`` 2,000) to a
fresh topic prefix served by the real worker (``python -m streams worker``, a subprocess;
two of the same app id by default, which share the 4 partitions: the scaling model;
``--quick`` one: in a quick run of every benchmark, the shared system's, see
:mod:`bench.system`), publishes the records once every worker holds its partitions, and
measures sustained matters/s from the end of publishing to the last department record
(worker start-up and the group's rebalances excluded; what was processed while publishing
is not counted). ``--matters N`` publishes N records instead (a longer run). In the same
run a raw aiokafka loop (consume → orjson parse → produce) over the same records gives the
baseline; the ratio is printed. A second baseline, the output floor
(:mod:`bench.output_floor`), writes the outputs the worker writes for the first 20,000 of
them (records and projection calls made beforehand) and does nothing else: what the
required outputs alone cost here.
Both also report CPU µs per record (the workers' user+system time over the measured
window, from /proc): on a machine shared with other runs wall-clock rates swing, CPU per
record much less. Topics and keys are deleted afterwards. ``main(quick)`` returns entries
``{name, value, unit, target, baseline?}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.output_floor import measure_floor
from bench.support import (
    LOGS,
    ROOT,
    Phases,
    baseline_clients,
    broker_pid,
    cleanup,
    cpu_seconds,
    create_topics,
    fresh_settings,
    mark_store_complete,
    offsets_reader,
    redis_cpu_seconds,
    wait_group_stable,
)
from bench.system import BenchSystem
from gridhub.citydata import load_city
from gridhub.cloudevents import decode, encode
from gridhub.intake import IntakeMatter, intake_event, matter_id_for
from gridhub.kafka_read import read_topics
from gridhub.redisconn import open_redis
from gridhub.settings import Settings
from gridhub.topics import Topics
from streams.app import app_id
from streams.progress import input_progress

TARGET = 5000.0
_phase = Phases("pipeline")
TARGET_SHARE = 0.25
#: Matters the output floor runs over (it prepares their outputs in-process first).
FLOOR_MATTERS = 20_000


def _records(
    settings: Settings, n: int, tag: str
) -> tuple[list[tuple[bytes, bytes, list[Any]]], int]:
    """N encoded intake records (source ids ``<tag>-<i>``: distinct matters) and the number
    of department tasks they must produce."""
    city = load_city(settings.city_file)
    categories = [c for c in city.categories.values() if c.default_tier == "department"]
    grids = sorted(city.grids)
    now = datetime.now(UTC)
    out, tasks = [], 0
    for i in range(n):
        category = categories[i % len(categories)]
        tasks += len(category.departments)
        matter = IntakeMatter(
            matter_id=matter_id_for("app", f"{tag}-{i}"),
            source="app",  # type: ignore[arg-type]
            source_id=f"{tag}-{i}",
            received_at=now,
            category=category.code,
            grid=grids[(i * 7) % len(grids)],
            description=f"bench matter {i}: 路灯不亮，已持续三天",
            reporter={"name": "张三", "phone": "13800000000"},  # type: ignore[arg-type]
        )
        r = encode(intake_event(matter))
        out.append((r.key or b"", r.value, r.headers))
    return out, tasks


async def _preload(settings: Settings, topic: str, records: list[tuple[bytes, bytes, Any]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, value=v, key=k, headers=h) for k, v, h in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _end_total(consumer: AIOKafkaConsumer, parts: list[TopicPartition]) -> int:
    ends = await consumer.end_offsets(parts)
    return int(sum(ends.values()))


@dataclass(frozen=True)
class Workers:
    """Running worker processes: their pids, whether all still run, where they log."""

    pids: list[int]
    alive: Callable[[], bool]
    log: str


@contextlib.asynccontextmanager
async def _own_workers(settings: Settings, count: int) -> AsyncIterator[Workers]:
    """``count`` worker processes of one app id, started now and stopped afterwards."""
    env = {
        **os.environ,
        "GRIDHUB_TOPIC_PREFIX": settings.topic_prefix,
        "GRIDHUB_REDIS_PREFIX": settings.redis_prefix,
        "GRIDHUB_CITY_FILE": str(settings.city_file),
        "GRIDHUB_STREAMS_WEB": "false",
        "GRIDHUB_LOG_LEVEL": os.environ.get("BENCH_WORKER_LOG_LEVEL", "WARNING"),
    }
    LOGS.mkdir(parents=True, exist_ok=True)
    log = (LOGS / "pipeline-worker.log").open("wb")
    command = os.environ.get("BENCH_WORKER", "-m streams worker").split()  # or a profiler
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            *command,
            cwd=ROOT,
            env={**env, "GRIDHUB_STREAMS_DATA_DIR": tempfile.mkdtemp(prefix="gridhub-bench-")},
            stdout=log,
            stderr=log,
        )
        for _ in range(count)
    ]
    try:
        yield Workers(
            [p.pid for p in procs],
            lambda: all(p.returncode is None for p in procs),
            str(LOGS / "pipeline-worker.log"),
        )
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
        for proc in procs:
            await proc.wait()
        log.close()


@contextlib.asynccontextmanager
async def _shared_worker(bench: BenchSystem) -> AsyncIterator[Workers]:
    """The shared system's worker, started now (it keeps running for the next benchmark)."""
    bench.launch("streams")
    system = bench.system
    yield Workers(
        [system.procs["streams"].pid], lambda: system.alive("streams"), str(system.log("streams"))
    )


@dataclass(frozen=True)
class Window:
    """The measured stretch of a pipeline run: matters/s, and CPU µs per matter of the
    workers, the broker (None when not started by ``scripts/kafka.sh``) and Redis server."""

    rate: float
    worker_us: float
    broker_us: float | None
    redis_us: float

    @property
    def machine_us(self) -> float:
        """CPU µs per matter of the processes measured (the bench's own poller excluded)."""
        return self.worker_us + (self.broker_us or 0.0) + self.redis_us


class _Cpu:
    """CPU seconds so far of the workers, the local broker and the Redis server."""

    def __init__(self, settings: Settings, workers: Workers) -> None:
        self.workers = workers
        self.broker = broker_pid()
        self.redis = open_redis(str(settings.redis_url), max_connections=1)

    async def read(self) -> tuple[float, float, float]:
        worker = sum(cpu_seconds(pid) for pid in self.workers.pids)
        broker = cpu_seconds(self.broker) if self.broker else 0.0
        return worker, broker, await redis_cpu_seconds(self.redis)


async def _lacking(
    settings: Settings, topics: Topics, records: list[tuple[bytes, bytes, list[Any]]]
) -> str:
    """What a run that stopped short lacks: the matters without one of their department
    tasks, and how far the workers' group has read its inputs."""
    city = load_city(settings.city_file)
    want = {
        key: set(city.categories[decode(value, headers).data["category"]].departments)
        for key, value, headers in records
    }
    read = await read_topics(settings, [topics.department(d) for d in city.departments])
    for (topic, _), rows in read.items():
        department = topic.rsplit(".", 1)[-1]
        for _, _, key, _, _ in rows:
            want.get(key or b"", set()).discard(department)
    lacking = {key.decode(): sorted(left) for key, left in want.items() if left}
    sample = ", ".join(f"{m} ({'/'.join(d)})" for m, d in list(lacking.items())[:5])
    progress = await input_progress(settings)
    return f"{len(lacking)} matters lack a task: {sample}; inputs end/committed: {progress}"


async def _measure_worker(
    settings: Settings,
    topics: Topics,
    records: list[tuple[bytes, bytes, list[Any]]],
    expected: int,
    workers: Workers,
    idle: float,
) -> Window:
    """Watch the workers until ``expected`` department records exist; the window runs from
    now (every record published; those already processed are not counted) to the last.
    No new department record for ``idle`` seconds fails the run, saying what is missing."""
    n = len(records)
    city = load_city(settings.city_file)
    names = [topics.department(d) for d in city.departments]
    consumer = await offsets_reader(settings, names)
    cpu = _Cpu(settings, workers)
    try:
        parts = [
            TopicPartition(name, p) for name in names for p in range(settings.topic_partitions)
        ]
        first, first_total = time.monotonic(), await _end_total(consumer, parts)
        at_first = await cpu.read()
        last, moved = first_total, first
        while True:
            total = await _end_total(consumer, parts)
            now = time.monotonic()
            if total != last:
                last, moved = total, now
            elif now - moved > idle:
                lacking = await _lacking(settings, topics, records)
                raise TimeoutError(
                    f"{total} of {expected} department records, none new for {idle:.0f} s: "
                    f"{lacking}"
                )
            if total >= expected:
                matters = n * ((expected - first_total) / expected)
                per = [
                    (b - a) / max(1.0, matters) * 1e6
                    for a, b in zip(at_first, await cpu.read(), strict=True)
                ]
                broker = per[1] if cpu.broker else None
                return Window(matters / max(1e-6, now - first), per[0], broker, per[2])
            if not workers.alive():
                raise RuntimeError(f"a worker exited; see {workers.log}")
            await asyncio.sleep(0.05)
    finally:
        await consumer.stop()
        await cpu.redis.aclose()


async def _measure_raw(settings: Settings, source: str, sink: str, n: int) -> tuple[float, float]:
    """The raw aiokafka loop over the same records: consume, orjson parse, produce.
    Returns (records/s, CPU µs per record of this process)."""
    consumer, producer = baseline_clients(settings, source)
    await consumer.start()
    await producer.start()
    try:
        seen, started, cpu = 0, time.monotonic(), time.process_time()
        while seen < n:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            futures = []
            for records in batch.values():
                for r in records:
                    data = orjson.loads(r.value)
                    futures.append(
                        await producer.send(
                            sink, key=r.key, value=orjson.dumps(data), headers=list(r.headers)
                        )
                    )
                seen += len(records)
            if futures:
                await asyncio.gather(*futures)
        return n / (time.monotonic() - started), (time.process_time() - cpu) / n * 1e6
    finally:
        await consumer.stop()
        await producer.stop()


async def _run(
    quick: bool, workers: int, shared: BenchSystem | None, matters: int | None = None
) -> list[dict[str, Any]]:
    _phase.reset()
    n = matters or (2_000 if quick else 50_000)
    if shared is not None:
        workers = 1
        settings = shared.settings
        shared.prepare()
        if shared.system.alive("streams"):  # a backlog is measured, not a stream of records
            shared.system.stop("streams")
    else:
        settings = fresh_settings("pipe")
        mark_store_complete(settings)  # a fresh prefix: no rebuild at the first start
        create_topics(settings)
    topics = Topics.from_settings(settings)
    raw_sink = f"{settings.topic_prefix}raw.sink"  # created on first use
    try:
        records, expected = _records(settings, n, "pipeline")
        started = _own_workers(settings, workers) if shared is None else _shared_worker(shared)
        async with started as running:
            # the records come once every worker holds its partitions: a worker that joins
            # later makes the group rebalance, a pause of seconds that is not throughput
            await wait_group_stable(settings, app_id(settings), workers, running.alive)
            _phase(f"{workers} worker(s) hold their partitions")
            await _preload(settings, topics.intake, records)
            _phase(f"{n:,} matters published")
            window = await _measure_worker(settings, topics, records, expected, running, 60.0)
        pipeline = window.rate
        print(
            f"pipeline: {pipeline:,.0f} matters/s, {window.worker_us:,.0f} CPU µs/matter",
            file=sys.stderr,
        )
        _phase("worker done")
        raw, raw_cpu = await _measure_raw(settings, topics.intake, raw_sink, n)
        _phase("raw loop done")
        floor, floor_cpu, floor_redis = await measure_floor(settings, records[:FLOOR_MATTERS])
        _phase("output floor done")
    finally:
        if shared is None:
            await cleanup(settings)
            _phase("cleaned up")
    ratio = pipeline / raw if raw else 0.0
    return [
        {
            "name": f"pipeline intake→department topics ({workers} worker(s))",
            "value": round(pipeline),
            "unit": "matters/s",
            "target": TARGET,
            "baseline": round(raw),
        },
        {
            "name": "raw aiokafka consume→parse→produce",
            "value": round(raw),
            "unit": "records/s",
            "target": 0,
        },
        {
            "name": "pipeline / raw ratio",
            "value": round(ratio, 3),
            "unit": "ratio",
            "target": TARGET_SHARE,
        },
        {
            "name": "output floor: the same output records and projection calls, no work",
            "value": round(floor),
            "unit": "matters/s (one process)",
            "target": None,
        },
        {
            "name": "pipeline / output floor ratio",
            "value": round(pipeline / floor, 3) if floor else 0.0,
            "unit": "ratio",
            "target": None,
        },
        {
            "name": "output floor CPU per matter: its process / the Redis server",
            "value": round(floor_cpu),
            "unit": f"µs (Redis server {floor_redis:,.0f} µs)",
            "target": None,
        },
        {
            "name": "worker CPU per matter (all workers)",
            "value": round(window.worker_us),
            "unit": "µs",
            "target": None,
            "baseline": round(raw_cpu),
        },
        *_machine_entries(window),
    ]


def _machine_entries(window: Window) -> list[dict[str, Any]]:
    """Where the machine's CPU went per matter, and the rate it allows: all cores busy
    with the measured processes at these costs (what a faster worker could reach)."""
    broker = "not measured" if window.broker_us is None else f"{window.broker_us:,.0f}"
    cores = os.cpu_count() or 1
    return [
        {
            "name": "CPU per matter: workers + broker + Redis server",
            "value": round(window.machine_us),
            "unit": f"µs (broker {broker}, Redis {window.redis_us:,.0f})",
            "target": None,
        },
        {
            "name": f"ceiling at these costs ({cores} cores all busy)",
            "value": round(cores / window.machine_us * 1e6) if window.machine_us else 0,
            "unit": "matters/s",
            "target": None,
        },
    ]


def main(
    quick: bool = False,
    workers: int | None = None,
    system: BenchSystem | None = None,
    matters: int | None = None,
) -> list[dict[str, Any]]:
    """Run the pipeline benchmark; ``quick`` uses 2,000 matters instead of 50,000 and one
    worker; ``workers`` worker processes of one app id share the partitions (default 2);
    ``system``: the quick run's, whose worker is then the one measured (started here);
    ``matters``: another number of matters (a longer run shows the rate is sustained)."""
    return asyncio.run(_run(quick, workers or (1 if quick else 2), system, matters))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, help="worker processes (default 2, quick 1)")
    parser.add_argument("--matters", type=int, help="matters preloaded (default 50,000)")
    args = parser.parse_args()
    for entry in main(args.quick, args.workers, matters=args.matters):
        base = f"  (baseline {entry['baseline']:,})" if "baseline" in entry else ""
        head = f"{entry['name']}: {entry['value']:,} {entry['unit']}"
        target = f"{entry['target']:,}" if entry["target"] is not None else "-"
        print(f"{head}  (target {target}){base}")

"""Recovery benchmark: how fast the pipeline comes back after ``kill -9``, and how fast the
Redis projections are rebuilt from Kafka.

    python -m bench.recovery [--quick]

With the real stream worker running (:mod:`bench.system`), N intake records are sent to it
(department-tier categories; 20,000, ``--quick`` 1,500); once it has produced a third of
their department records it is SIGKILLed (its process group) and restarted at once.
Measured: (a) restart → department records flowing again, (b) kill → lag back to zero (the
worker group's committed offsets, committed every second, at the end of its input topics).
The restarted worker gets the partitions once the group has dropped the killed member,
after the consumer group session timeout: the full run keeps the worker's own setting;
``--quick`` sets 6 s (Faust's ``BROKER_SESSION_TIMEOUT``, the broker's minimum) to keep CI
short. Then :func:`streams.rebuild.rebuild` rebuilds every projection into a scratch Redis
prefix from the same topics (in a quick run, everything the other benchmarks sent too):
records/s and events/s, against the baseline of merely reading those topics. ``main(quick)``
returns entries ``{name, value, unit, target, baseline?}``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.pipeline import _preload, _records
from bench.support import Phases, offsets_reader
from bench.system import BenchSystem, own_or_shared
from gridhub.domain.hierarchy import City
from gridhub.settings import Settings
from gridhub.topics import Topics
from streams.app import app_id
from streams.rebuild import read_topics, rebuild

#: Targets: back within a consumer-group session timeout, and a rebuild of a year of Shulan
#: (~15,000 matters, ~150,000 input records) within a few minutes.
TARGET_BACK_S = 15.0
TARGET_REBUILD = 1000.0
_phase = Phases("recovery")


class Outputs:
    """The department topics' end offsets, and the worker group's lag on its inputs."""

    def __init__(self, settings: Settings, city: City) -> None:
        topics = Topics.from_settings(settings)
        parts = range(settings.topic_partitions)
        self.outputs = [
            TopicPartition(topics.department(d), p) for d in city.departments for p in parts
        ]
        self.inputs = [
            TopicPartition(t, p) for t in (topics.intake, topics.commands) for p in parts
        ]
        self.group = app_id(settings)
        self.settings = settings
        self.admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)

    async def start(self) -> None:
        names = {tp.topic for tp in self.outputs + self.inputs}
        self.consumer = await offsets_reader(self.settings, sorted(names))
        await self.admin.start()

    async def stop(self) -> None:
        await self.consumer.stop()
        await self.admin.close()

    async def total(self) -> int:
        """Department records so far (a re-processed input adds its outputs again)."""
        return int(sum((await self.consumer.end_offsets(self.outputs)).values()))

    async def lag(self) -> int:
        """Input records not yet committed by the worker's group (it commits every second)."""
        ends = await self.consumer.end_offsets(self.inputs)
        done = await self.admin.list_consumer_group_offsets(self.group, partitions=self.inputs)
        return sum(end - (done[tp].offset if tp in done else 0) for tp, end in ends.items())


async def _kill_and_restart(
    bench: BenchSystem, outputs: Outputs, records: list[Any], expected: int
) -> tuple[float, float]:
    """Preload ``records`` (``expected`` department records) into the running worker's input,
    kill -9 it a third of the way, restart it: (restart → processing again, kill → lag 0)."""
    system = bench.system
    base = await outputs.total()
    await _preload(bench.settings, system.topics.intake, records)
    _phase(f"{len(records):,} matters sent to the worker")
    deadline = time.monotonic() + 600
    while (done := await outputs.total() - base) < expected // 3:
        if time.monotonic() > deadline or not system.alive("streams"):
            raise RuntimeError(f"the worker is not processing ({done} of {expected} records)")
        await asyncio.sleep(0.02)
    system.kill("streams")
    killed = time.monotonic()
    if done >= expected:
        raise RuntimeError("the worker was done before the kill: preload more matters")
    _phase(f"worker killed after {done / expected:.0%} of the records")
    system.start("streams")
    restarted = time.monotonic()
    # The dead worker's produce requests in flight land within this second; the new one
    # needs longer than that to start, and the session timeout to get the partitions.
    await asyncio.sleep(1.0)
    at_kill = await outputs.total()
    back: float | None = None
    while back is None or await outputs.lag() > 0:
        if back is None and await outputs.total() > at_kill:
            back = time.monotonic() - restarted
            _phase("the restarted worker produces")
        if time.monotonic() - killed > 600 or not system.alive("streams"):
            raise RuntimeError("no lag zero within 600 s of the kill")
        await asyncio.sleep(0.05)
    return back, time.monotonic() - killed


async def _run(quick: bool, shared: BenchSystem | None) -> list[dict[str, Any]]:
    _phase.reset()
    n = 1_500 if quick else 20_000
    async with own_or_shared(shared, "recovery", quick=quick) as bench:
        settings = bench.settings
        await bench.up("streams")
        records, expected = _records(settings, n)
        outputs = Outputs(settings, bench.system.city)
        await outputs.start()
        try:
            back, lag_zero = await _kill_and_restart(bench, outputs, records, expected)
        finally:
            await outputs.stop()
        _phase("lag zero")
        scratch = settings.model_copy(update={"redis_prefix": f"{settings.redis_prefix}rebuild:"})
        started = time.perf_counter()
        raw = await read_topics(
            settings, [bench.system.topics.intake, bench.system.topics.commands]
        )
        read_rate = sum(len(v) for v in raw.values()) / (time.perf_counter() - started)
        redis = bench.system.redis()
        try:
            report = await rebuild(scratch, redis, clear=False)  # a fresh prefix: nothing to clear
        finally:
            await redis.aclose()
        _phase(f"projections rebuilt from {report.records:,} input records")
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


def main(quick: bool = False, system: BenchSystem | None = None) -> list[dict[str, Any]]:
    """Run the recovery benchmark; ``quick`` uses 1,500 matters instead of 20,000 (and a
    6 s session timeout); ``system``: a running one to use (its worker is killed)."""
    return asyncio.run(_run(quick, system))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    for entry in main(parser.parse_args().quick):
        print(f"{entry['name']}: {entry['value']} {entry['unit']} (target {entry['target']})")

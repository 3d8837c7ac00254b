"""Recovery benchmark: how fast the pipeline comes back after ``kill -9``, and how fast the
Redis projections are rebuilt from Kafka.

    python -m bench.recovery [--quick]

With the real stream worker running (:mod:`bench.system`), intake records (department-tier
categories) are sent to it at 1,000/s for 10 s (``--quick``: 1.5 s); a third of the way
through it is SIGKILLed (its process group) and restarted at once, while the records keep
coming. Measured: (a) restart → processing again: the restarted worker's first commit of
input offsets (it commits every second, after the batch's outputs are in Kafka). A dead
worker commits nothing; new department records did not tell the two workers apart, and one
run counted records 1.1 s after the kill, long before the group could have handed the
partitions over; (b) kill → lag back to zero (everything sent, and the worker group's
committed offsets at the end of its input topics). The restarted worker gets the
partitions once the group has dropped the killed member, after the consumer group session
timeout: the full run keeps the worker's own setting (10 s); ``--quick`` sets 6 s
(``GRIDHUB_STREAMS_SESSION_TIMEOUT_SECONDS``, the broker's minimum) to keep CI short. Then
:func:`streams.rebuild.rebuild` rebuilds every projection into a scratch Redis prefix from
the same topics (in a quick run, everything the benchmarks before it sent too): records/s
and events/s, against the baseline of merely reading those topics. ``main(quick)`` returns
entries ``{name, value, unit, target, baseline?}``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.pipeline import _records
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

    async def committed(self) -> int:
        """Input records the worker's group has committed so far."""
        done = await self.admin.list_consumer_group_offsets(self.group, partitions=self.inputs)
        return sum(max(0, done[tp].offset) for tp in self.inputs if tp in done)

    async def lag(self) -> int:
        """Input records not yet committed by the worker's group (it commits every second)."""
        ends = await self.consumer.end_offsets(self.inputs)
        done = await self.admin.list_consumer_group_offsets(self.group, partitions=self.inputs)
        # a partition nothing was committed for (an empty one) answers offset -1
        return sum(end - max(0, done[tp].offset if tp in done else 0) for tp, end in ends.items())


async def _publish(settings: Settings, topic: str, records: list[Any], rate: float) -> None:
    """``records`` to ``topic`` at ``rate`` per second (acks=all), as a live stream."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        futures, started = [], time.monotonic()
        for n, (key, value, headers) in enumerate(records):
            delay = started + n / rate - time.monotonic()
            if delay > 0.005:
                await asyncio.sleep(delay)
            futures.append(await producer.send(topic, value=value, key=key, headers=headers))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _kill_and_restart(
    bench: BenchSystem, outputs: Outputs, records: list[Any], rate: float, within: float
) -> tuple[float, float]:
    """Send ``records`` to the running worker at ``rate``; a third of the way through, once it
    has produced, kill -9 it and restart it: (restart → processing again, kill → lag 0)."""
    system = bench.system
    base = await outputs.total()
    sending = asyncio.create_task(_publish(bench.settings, system.topics.intake, records, rate))
    deadline = time.monotonic() + within
    started = time.monotonic()
    while time.monotonic() - started < len(records) / rate / 3 or await outputs.total() == base:
        if time.monotonic() > deadline or not system.alive("streams"):
            sending.cancel()
            raise RuntimeError("the worker is not processing what is sent to it")
        await asyncio.sleep(0.02)
    if sending.done() and await outputs.lag() == 0:  # only on a machine far too busy
        raise RuntimeError("the worker had processed everything before the kill")
    system.kill("streams")
    killed = time.monotonic()
    _phase(f"worker killed under load, {killed - started:.1f} s into {len(records):,} matters")
    system.start("streams")
    restarted = time.monotonic()
    # A commit request of the dead worker still in flight lands within this second; the new
    # worker needs the session timeout to get the partitions before it can commit.
    await asyncio.sleep(1.0)
    at_kill = await outputs.committed()
    back: float | None = None
    while back is None or not sending.done() or await outputs.lag() > 0:
        if back is None and await outputs.committed() > at_kill:
            back = time.monotonic() - restarted
            _phase("the restarted worker commits")
        if time.monotonic() - killed > within or not system.alive("streams"):
            sending.cancel()
            raise RuntimeError(f"no lag zero within {within:.0f} s of the kill")
        await asyncio.sleep(0.05)
    await sending  # its errors, if any
    return back, time.monotonic() - killed


async def _run(quick: bool, shared: BenchSystem | None) -> list[dict[str, Any]]:
    _phase.reset()
    n, rate = (1_500, 1000.0) if quick else (10_000, 1000.0)
    async with own_or_shared(shared, "recovery", quick=quick) as bench:
        settings = bench.settings
        await bench.up("streams")
        records, _ = _records(settings, n, "recovery")
        outputs = Outputs(settings, bench.system.city)
        await outputs.start()
        try:
            within = 60 if quick else 600
            back, lag_zero = await _kill_and_restart(bench, outputs, records, rate, within)
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
    """Run the recovery benchmark; ``quick`` sends 1,500 matters instead of 10,000 (and sets
    a 6 s session timeout); ``system``: a running one to use (its worker is killed)."""
    return asyncio.run(_run(quick, system))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    for entry in main(parser.parse_args().quick):
        print(f"{entry['name']}: {entry['value']} {entry['unit']} (target {entry['target']})")

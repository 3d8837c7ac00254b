"""BatchRuntime against the real broker and Redis: a batch's alerts are in Kafka before the
rest of the batch is computed; hotspots are counted across partitions and workers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer

from gridhub.citydata import load_city
from gridhub.cloudevents import decode
from gridhub.intake import IntakeMatter
from gridhub.kafka_read import read_topics
from gridhub.settings import Settings
from streams.context import build_context
from streams.processor import BatchResult, InRecord, Processor
from streams.publisher import Publisher, Row
from streams.runtime import BatchRuntime
from tests.streams.support import (
    batch_runtime,
    drop_topics,
    intake_matter,
    intake_record,
    prepare_topics,
)

pytestmark = pytest.mark.integration


async def test_alerts_are_acknowledged_before_the_rest_of_the_batch_is_computed(
    settings: Settings, producer: AIOKafkaProducer, redis_client: aioredis.Redis
) -> None:
    topics = prepare_topics(settings)
    ctx = build_context(settings)
    publisher = Publisher(lambda: producer)
    steps: list[str] = []

    async def publish(rows: Iterable[Row]) -> None:
        listed = list(rows)
        await publisher.publish(listed)
        steps.append("acked " + ",".join(sorted({topic for topic, *_ in listed})))

    class Observed(Processor):
        def finish(self, result: BatchResult) -> None:
            steps.append("finish")
            super().finish(result)

    matters_changelog = f"{settings.topic_prefix}matters-changelog"
    runtime = batch_runtime(
        settings, redis_client, publish, threshold=3, processor=Observed(ctx, topics)
    )
    matters = [intake_matter("URB-STALL") for _ in range(3)]  # the third is a hotspot
    records = [
        InRecord(topics.intake, 0, offset, r.key, r.value, r.headers)
        for offset, r in enumerate(intake_record(m) for m in matters)
    ]
    try:
        result = await runtime.handle(records)
    finally:
        drop_topics(settings)

    assert [a.message["kind"] for a in result.alerts] == ["hotspot"]
    assert steps[:2] == [f"acked {topics.alerts}", "finish"]
    assert len(steps) == 4, steps
    assert topics.events in steps[2]  # then the other outputs
    assert matters_changelog in steps[3]  # and last the new states


async def test_a_hotspot_spread_over_partitions_and_workers_raises_one_alert(
    settings: Settings, producer: AIOKafkaProducer
) -> None:
    """Matters are partitioned by matter id, so one grid's matters reach every partition.
    Four workers (each its own runtime and Redis connection) take one partition each and
    accept one matter of the same (grid, category) at the same time: with a threshold of 3,
    exactly one alert. A worker that replays its batch after a crash sends that alert again
    with the same id if it held it, and raises none otherwise; a fifth matter, on a worker
    started afresh, raises none within the window."""
    topics = prepare_topics(settings)
    publisher = Publisher(lambda: producer)
    clients: list[aioredis.Redis] = []

    def worker() -> BatchRuntime:
        client = aioredis.from_url(str(settings.redis_url))
        clients.append(client)
        return batch_runtime(settings, client, publisher.publish, threshold=3)

    grid = sorted(load_city(settings.city_file).grids)[0]
    matters = [intake_matter("URB-STALL", grid=grid) for _ in range(5)]

    def batch(partition: int, matter: IntakeMatter) -> list[InRecord]:
        r = intake_record(matter)
        return [InRecord(topics.intake, partition, 0, r.key, r.value, r.headers)]

    try:
        workers = [worker() for _ in range(4)]
        results = await asyncio.gather(
            *(w.handle(batch(p, matters[p])) for p, w in enumerate(workers))
        )
        replays = [await worker().handle(batch(p, m)) for p, m in enumerate(matters[:4])]
        fifth = await worker().handle(batch(0, matters[4]))
        read = await read_topics(settings, [topics.alerts])
    finally:
        for client in clients:
            await client.aclose()
        drop_topics(settings)

    raised = [(p, a.message["id"]) for p, r in enumerate(results) for a in r.alerts]
    assert len(raised) == 1, raised
    [(holder, alert_id)] = raised
    assert alert_id == f"{matters[holder].matter_id}:hotspot"
    assert [[a.message["id"] for a in r.alerts] for r in replays] == [
        [alert_id] if p == holder else [] for p in range(4)
    ]
    assert fifth.alerts == []
    sent = [row for rows in read.values() for row in rows]
    assert len(sent) == 2  # the alert and its replay, one id: consumers keep one
    assert {decode(value or b"", headers).id for *_, value, headers in sent} == {alert_id}

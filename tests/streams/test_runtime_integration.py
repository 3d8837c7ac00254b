"""BatchRuntime against the real broker and Redis: a batch's alerts are in Kafka before the
rest of the batch is computed; hotspot counts are saved per (grid, category)."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer

from gridhub.citydata import load_city
from gridhub.intake import IntakeMatter
from gridhub.kafka_admin import ensure_topics
from gridhub.kafka_read import read_topics
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from streams.context import build_context
from streams.deadlines import DeadlineIndex
from streams.processor import BatchResult, InRecord, Processor
from streams.projections import Projector
from streams.publisher import Publisher, Row
from streams.runtime import BatchRuntime
from tests.streams.support import (
    DictStore,
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
    keys = RedisKeys(settings.redis_prefix)
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

    matters_changelog, hotspots_changelog = (
        f"{settings.topic_prefix}{table}-changelog" for table in ("matters", "hotspots")
    )
    ensure_topics(settings, [matters_changelog, hotspots_changelog])
    runtime = BatchRuntime(
        Observed(ctx, topics),
        Projector(redis_client, keys, ctx),
        DeadlineIndex(redis_client, keys),
        DictStore(matters_changelog),
        DictStore(hotspots_changelog),
        publish,
        hotspot_threshold=3,
        hotspot_window_seconds=3600,
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


async def test_hotspot_counts_are_saved_per_grid_and_category_and_survive_a_restart(
    settings: Settings, producer: AIOKafkaProducer, redis_client: aioredis.Redis
) -> None:
    """Each (grid, category) a batch observed is one small changelog record (one snapshot of
    the detector outgrew Kafka's record limit), and a runtime restarted on the restored table
    counts on from it."""
    topics = prepare_topics(settings)
    ctx = build_context(settings)
    keys = RedisKeys(settings.redis_prefix)
    publisher = Publisher(lambda: producer)
    matters_changelog, hotspots_changelog = (
        f"{settings.topic_prefix}{table}-changelog" for table in ("matters", "hotspots")
    )
    ensure_topics(settings, [matters_changelog, hotspots_changelog])
    table = DictStore(hotspots_changelog)  # what Faust restores from the changelog

    def runtime() -> BatchRuntime:
        return BatchRuntime(
            Processor(ctx, topics),
            Projector(redis_client, keys, ctx),
            DeadlineIndex(redis_client, keys),
            DictStore(matters_changelog),
            table,
            publisher.publish,
            hotspot_threshold=3,
            hotspot_window_seconds=3600,
            hotspot_flush_seconds=0.0,
        )

    grids = sorted(load_city(settings.city_file).grids)[:20]
    first = [intake_matter("URB-STALL", grid=g) for g in grids for _ in range(2)]
    later = intake_matter("URB-STALL", grid=grids[0])  # the third of its grid: a hotspot

    def records(matters: list[IntakeMatter], start: int) -> list[InRecord]:
        return [
            InRecord(topics.intake, 0, offset, r.key, r.value, r.headers)
            for offset, r in enumerate((intake_record(m) for m in matters), start)
        ]

    try:
        before = await runtime().handle(records(first, 0))
        read = await read_topics(settings, [hotspots_changelog])  # acked: all there now
        saved = [(key or b"", value or b"") for rows in read.values() for *_, key, value, _ in rows]
        after = await runtime().handle(records([later], len(first)))  # a restarted worker
    finally:
        drop_topics(settings)

    assert before.alerts == []
    assert sorted(key for key, _ in saved) == sorted(f"p0|{g}|URB-STALL".encode() for g in grids)
    assert all(len(orjson.loads(value)["seen"]) == 2 for _, value in saved)
    assert [(a.message["kind"], a.message["grid"]) for a in after.alerts] == [("hotspot", grids[0])]

"""Hotspot alerts are published, not projected; a rebuild brings the counts back."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer

from gridhub.citydata import load_city
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from streams.processor import InRecord
from streams.publisher import Publisher
from streams.rebuild import rebuild
from tests.streams.support import (
    batch_runtime,
    drop_topics,
    intake_matter,
    intake_record,
    prepare_topics,
)

pytestmark = pytest.mark.integration


async def test_hotspot_alerts_are_not_projected_and_a_rebuild_brings_the_counts_back(
    settings: Settings, producer: AIOKafkaProducer, redis_client: aioredis.Redis
) -> None:
    """Live, matter A (partition 0) then B (partition 1) arrive: B makes the count 2 and
    raises the hotspot, on ``alerts`` and in the batch's result, but in no matter's
    projected alerts (a replay goes partition by partition, A, C, then B, and could not
    tell which matter raised it). Redis loses everything; after the rebuild the counts
    are back: a fourth matter within the window raises nothing new."""
    settings = settings.model_copy(update={"hotspot_threshold": 2})
    topics = prepare_topics(settings)
    keys = RedisKeys(settings.redis_prefix)
    publish = Publisher(lambda: producer).publish
    runtime = batch_runtime(settings, redis_client, publish, threshold=2)
    grid = sorted(load_city(settings.city_file).grids)[0]
    a, b, c = (intake_matter("URB-STALL", grid=grid) for _ in range(3))
    try:
        raised = []
        for matter, partition in ((a, 0), (b, 1), (c, 0)):
            r = intake_record(matter)
            sent = await producer.send_and_wait(
                topics.intake, r.value, key=r.key, headers=list(r.headers), partition=partition
            )
            record = InRecord(topics.intake, partition, sent.offset, r.key, r.value, r.headers)
            raised += [x.message["matter_id"] for x in (await runtime.handle([record])).alerts]
        assert raised == [b.matter_id]
        live = {
            m.matter_id: await redis_client.hkeys(keys.matter_alerts(m.matter_id))
            for m in (a, b, c)
        }
        doomed = [k async for k in redis_client.scan_iter(match=f"{settings.redis_prefix}*")]
        await redis_client.unlink(*doomed)  # Redis lost its data

        await rebuild(settings, redis_client)
        alerted = {
            m.matter_id: await redis_client.hkeys(keys.matter_alerts(m.matter_id))
            for m in (a, b, c)
        }
        late = intake_matter("URB-STALL", grid=grid)
        r = intake_record(late)
        after = await runtime.handle([InRecord(topics.intake, 1, 1, r.key, r.value, r.headers)])
    finally:
        drop_topics(settings)

    assert live == alerted == {a.matter_id: [], b.matter_id: [], c.matter_id: []}
    assert after.alerts == []

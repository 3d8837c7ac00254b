"""The real broker and the real Redis, through gridhub's own codec and settings."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer
from kafka import KafkaProducer

from gridhub.cloudevents import CloudEvent, decode, encode, register
from gridhub.kafka_admin import delete_topics_with_prefix, ensure_topics
from gridhub.settings import Settings
from gridhub.topics import Topics

pytestmark = pytest.mark.integration


async def test_cloudevent_round_trip_through_real_kafka(settings: Settings) -> None:
    topics = Topics.from_settings(settings)
    ensure_topics(settings, [topics.events])
    register("test.ping", 1)
    sent = [
        CloudEvent.new(
            "test.ping", 1, source="/tests", subject=f"M{i}", data={"n": i, "zh": "事项"}
        )
        for i in range(5)
    ]
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True
    )
    for event in sent:
        record = encode(event)
        producer.send(topics.events, key=record.key, value=record.value, headers=record.headers)
    producer.flush()
    producer.close()

    consumer = AIOKafkaConsumer(
        topics.events,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=f"{settings.topic_prefix}g",
    )
    await consumer.start()
    try:
        got = []
        async with asyncio.timeout(20):
            while len(got) < len(sent):
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    got.extend(decode(r.value, r.headers) for r in records)
    finally:
        await consumer.stop()
        delete_topics_with_prefix(settings, settings.topic_prefix)
    assert sorted(e.id for e in got) == sorted(e.id for e in sent)
    by_id = {e.id: e for e in got}
    for event in sent:
        back = by_id[event.id]
        assert (back.type, back.subject, back.data) == (event.type, event.subject, dict(event.data))


async def test_real_redis_write_and_read(settings: Settings, redis_client: aioredis.Redis) -> None:
    key = f"{settings.redis_prefix}hello"
    await redis_client.hset(key, mapping={"state": "accepted", "owner": "T01"})
    await redis_client.zadd(f"{key}:queue", {"M1": 30.0, "M2": 10.0})
    assert await redis_client.hgetall(key) == {b"state": b"accepted", b"owner": b"T01"}
    assert await redis_client.zrange(f"{key}:queue", 0, -1) == [b"M2", b"M1"]

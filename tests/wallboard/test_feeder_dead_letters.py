"""The feeder's poison records: each goes to the dead-letter topic with the reason, byte for
byte, and the deltas after it still reach the stream; while the dead letter is not
acknowledged the feeder does not move past the bad record. Real Kafka and Redis."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from gridhub.cloudevents import CloudEvent, decode, encode
from gridhub.deadletter import DeadLetters
from gridhub.domain.hierarchy import City
from gridhub.kafka_admin import ensure_topics
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics
from tests.support.kafka_topics import read_all
from tests.wallboard.conftest import matter_delta, matter_view
from wallboard.feeder import Feeder

pytestmark = pytest.mark.integration


def _ce(name: str, version: int, data: dict[str, Any]) -> tuple[bytes | None, bytes, list]:
    record = encode(CloudEvent.new(name, version, source="/poison", data=data, subject="M-P"))
    return record.key, record.value, record.headers


async def _run_feeder(feeder: Feeder, until: Callable[[], Awaitable[bool]], within: float) -> None:
    task = asyncio.create_task(feeder.run())
    try:
        for _ in range(int(within / 0.2)):
            if await until():
                break
            await asyncio.sleep(0.2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_poison_goes_to_the_dead_letter_topic_and_the_feed_goes_on(
    wb_settings: Settings,
    wb_topics: Topics,
    city: City,
    producer: AIOKafkaProducer,
    publish: Callable[..., Awaitable[str]],
    redis_client: Any,
) -> None:
    ensure_topics(wb_settings, [wb_topics.dead_letter], partitions=1)
    keys = RedisKeys(wb_settings.redis_prefix)
    await publish(matter_delta(matter_view("M-1")))
    poison = [  # (topic, key, value, headers, what the reason must name)
        (wb_topics.wallboard, b"M-P", b"\xff\xfe not json", [], "ce_specversion"),
        (wb_topics.wallboard, *_ce("wallboard.delta", 99, {"kind": "matter"}), "from the future"),
        (wb_topics.wallboard, *_ce("wallboard.delta", 1, {"kind": "nope"}), "not a Delta"),
        (wb_topics.alerts, *_ce("alert", 1, {"id": 5, "matter_id": None}), "alert has no id"),
        (wb_topics.alerts, b"M-P", None, [], "ce_specversion"),  # a tombstone
    ]
    where = {}
    for topic, key, value, headers, reason in poison:
        meta = await producer.send_and_wait(topic, value, key=key, headers=headers)
        where[f"dl:{topic}:{meta.partition}:{meta.offset}"] = (meta, key, value, reason)
    await publish(matter_delta(matter_view("M-2")))  # good records after the poison
    alert = {"id": "W-1", "matter_id": "M-2", "level": "red", "township": "T01"}
    await publish(alert, topic="alerts")

    async def three_appended() -> bool:
        return bool(await redis_client.xlen(keys.wallboard_stream()) >= 3)

    feeder = Feeder(wb_settings, city, redis_client, group_id=f"{wb_settings.topic_prefix}dl")
    await _run_feeder(feeder, three_appended, 20)

    entries = [orjson.loads(f[b"d"]) for _, f in await redis_client.xrange(keys.wallboard_stream())]
    assert sorted(e.get("matter", {}).get("id") or e["alert"]["id"] for e in entries) == [
        "M-1",
        "M-2",
        "W-1",
    ]
    dead = [decode(r.value, r.headers) for r in read_all(wb_settings, wb_topics.dead_letter, 5)]
    assert sorted(d.id for d in dead) == sorted(where)
    for d in dead:
        meta, key, value, reason = where[d.id]
        assert reason in d.data["reason"], (reason, d.data["reason"])
        assert d.extensions["reason"] == d.data["reason"]
        assert (d.source, d.data["topic"], d.data["partition"], d.data["offset"]) == (
            "/wallboard/feeder",
            meta.topic,
            meta.partition,
            meta.offset,
        )
        assert d.data["key_b64"] == (base64.b64encode(key).decode() if key else None)
        assert d.data["value_b64"] == (base64.b64encode(value).decode() if value else None)


async def test_the_feeder_does_not_pass_a_bad_record_until_its_dead_letter_is_acked(
    wb_settings: Settings,
    wb_topics: Topics,
    city: City,
    producer: AIOKafkaProducer,
    redis_client: Any,
) -> None:
    ensure_topics(wb_settings, [wb_topics.dead_letter], partitions=1)
    keys = RedisKeys(wb_settings.redis_prefix)
    bad = await producer.send_and_wait(wb_topics.wallboard, b"garbage", key=b"M-P", partition=0)
    after = encode(
        CloudEvent.new("wallboard.delta", 1, source="/t", data=matter_delta(matter_view("M-after")))
    )
    await producer.send_and_wait(
        wb_topics.wallboard, after.value, key=b"M-after", headers=after.headers, partition=0
    )
    group = f"{wb_settings.topic_prefix}acks"

    async def appended() -> bool:
        return bool(await redis_client.xlen(keys.wallboard_stream()) >= 1)

    stuck = Feeder(wb_settings, city, redis_client, group_id=group)
    nowhere = wb_settings.model_copy(update={"kafka_bootstrap": "127.0.0.1:9"})
    stuck.dead = DeadLetters(nowhere, source="/wallboard/feeder", ack_timeout=1.0)
    await _run_feeder(stuck, appended, 6)  # Kafka never acknowledges the dead letter
    offsets = await redis_client.hgetall(keys.wallboard_offsets())
    assert f"{bad.topic}:{bad.partition}".encode() not in offsets, offsets
    assert await redis_client.xlen(keys.wallboard_stream()) == 0  # its batch waits with it
    assert read_all(wb_settings, wb_topics.dead_letter, 0, timeout=1) == []

    await _run_feeder(Feeder(wb_settings, city, redis_client, group_id=group), appended, 20)
    dead = [decode(r.value, r.headers) for r in read_all(wb_settings, wb_topics.dead_letter, 1)]
    assert [d.id for d in dead] == [f"dl:{bad.topic}:{bad.partition}:{bad.offset}"]
    assert await redis_client.xlen(keys.wallboard_stream()) == 1

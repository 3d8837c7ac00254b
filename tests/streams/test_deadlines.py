"""The deadline index and firer against real Redis and a real Kafka topic."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from gridhub.cloudevents import KafkaRecord, decode
from gridhub.commands_topic import parse_commands, ticks_record
from gridhub.domain.commands import Command, DeadlineDue
from gridhub.domain.sla import ScheduledWarning, warning_id
from gridhub.kafka_admin import delete_topics_with_prefix, ensure_topics
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics
from streams.deadlines import DeadlineFirer, DeadlineIndex

pytestmark = pytest.mark.integration


def _warning(matter: str, level: str, due: datetime) -> ScheduledWarning:
    return ScheduledWarning(
        warning_id=warning_id(matter, "resolve", 1, level),
        matter_id=matter,
        kind="resolve",
        generation=1,
        level=level,
        due_at=due,
        target="owner",
    )


def _commands(value: bytes, headers: list[tuple[str, bytes]]) -> list[Command]:
    commands = parse_commands(decode(value, headers))
    assert isinstance(commands, list), commands
    return commands


async def _collect(settings: Settings, topic: str, want: int, seconds: float) -> list[tuple]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=f"{settings.topic_prefix}collect",
    )
    await consumer.start()
    got: list[tuple] = []
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while len(got) < want:
                    for records in (await consumer.getmany(timeout_ms=200)).values():
                        for r in records:
                            got.extend(
                                (c, r.timestamp, r.partition)
                                for c in _commands(r.value, list(r.headers))
                            )
        # a little longer, to catch duplicates arriving late
        for records in (await consumer.getmany(timeout_ms=700)).values():
            for r in records:
                got.extend(
                    (c, r.timestamp, r.partition) for c in _commands(r.value, list(r.headers))
                )
    finally:
        await consumer.stop()
    return got


@pytest.fixture
async def index(settings: Settings, redis_client: aioredis.Redis) -> DeadlineIndex:
    return DeadlineIndex(redis_client, RedisKeys(settings.redis_prefix), lease_seconds=1.0)


async def test_each_warning_fires_once_and_not_before_it_is_due(
    settings: Settings, index: DeadlineIndex
) -> None:
    topic = Topics.from_settings(settings).commands
    ensure_topics(settings, [topic], partitions=2)
    now = datetime.now(UTC)
    warnings = {
        p: [
            _warning(f"M{p}X{i}", "yellow", now + timedelta(seconds=0.5 + i * 0.01))
            for i in range(100)
        ]
        for p in (0, 1)
    }
    far = _warning("MFAR", "red", now + timedelta(days=3))
    for p, ws in warnings.items():
        await index.schedule(p, ws)
    await index.schedule(0, [far])

    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()

    async def send(rows: list[tuple[KafkaRecord, int]]) -> None:
        futures = [
            await producer.send(topic, value=r.value, headers=r.headers, partition=p)
            for r, p in rows
        ]
        await asyncio.gather(*futures)

    firer = DeadlineFirer(
        index, send, partitions=lambda: {0, 1}, encode=ticks_record, tick_seconds=0.05
    )
    task = asyncio.create_task(firer.run())
    try:
        got = await _collect(settings, topic, 200, 20)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await producer.stop()
        delete_topics_with_prefix(settings, settings.topic_prefix)

    commands = [c for c, _, _ in got]
    assert all(isinstance(c, DeadlineDue) for c in commands)
    for command, _, partition in got:  # each tick in the partition of its claim (and matter)
        assert command.matter_id.startswith(f"M{partition}X")
    ids = [c.warning_id for c in commands]
    expected = {w.warning_id for ws in warnings.values() for w in ws}
    assert sorted(ids) == sorted(expected)  # every one, and each exactly once
    due = {w.warning_id: w.due_at for ws in warnings.values() for w in ws}
    for command in commands:
        assert command.at >= due[command.warning_id]  # never early
        assert command.actor.role == "system"
    assert await index.size(0) == 1  # the far one is still waiting


async def test_a_claim_never_acked_is_claimed_again_after_its_lease(index: DeadlineIndex) -> None:
    now = time.time()
    w = _warning("MCRASH", "red", datetime.fromtimestamp(now - 1, UTC))
    await index.schedule(3, [w])
    first = await index.claim_due(3, now)
    assert [wid for wid, _ in first] == [w.warning_id]
    assert await index.claim_due(3, now + 0.5) == []  # leased to the first claimer
    again = await index.claim_due(3, now + 1.5)  # the claimer "died"
    assert again == [(w.warning_id, None)]
    await index.ack(3, [w.warning_id])
    assert await index.claim_due(3, now + 10) == []


async def test_cancel_and_partition_ownership(settings: Settings, index: DeadlineIndex) -> None:
    now = datetime.now(UTC) - timedelta(seconds=1)
    a, b = _warning("MA", "yellow", now), _warning("MB", "yellow", now)
    await index.schedule(0, [a])
    await index.schedule(1, [b])
    sent: list[tuple[KafkaRecord, int]] = []

    async def send(rows: list[tuple[KafkaRecord, int]]) -> None:
        sent.extend(rows)

    firer = DeadlineFirer(index, send, partitions=lambda: {1}, encode=ticks_record)
    assert await firer.fire_partition(1) == 1
    assert [p for _, p in sent] == [1]
    assert [c.matter_id for c in _commands(sent[0][0].value, sent[0][0].headers)] == ["MB"]
    await index.cancel(0, [a.warning_id])
    assert await index.size(0) == 0

"""The worker's Publisher against the real broker: every row acknowledged, keyed rows on the
producer's default partition in order, explicit partitions kept, and late acks logged with
the leader the producer sees."""

from __future__ import annotations

import logging

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import murmur2

from gridhub.settings import Settings
from streams.publisher import Publisher, Row
from streams.stuck import producer_state
from tests.streams.support import drop_topics, prepare_topics

pytestmark = pytest.mark.integration


async def read_back(settings: Settings, topic: str, count: int) -> list[tuple[int, bytes]]:
    """The first ``count`` records of ``topic`` as (partition, value), in offset order."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    out: list[tuple[int, bytes]] = []
    try:
        while len(out) < count:
            batch = await consumer.getmany(timeout_ms=5000)
            assert batch, f"only {len(out)} of {count} records arrived"
            for records in batch.values():
                out += [(r.partition, r.value or b"") for r in records]
    finally:
        await consumer.stop()
    return out


async def test_every_row_is_acked_on_its_partition_in_order(
    settings: Settings, producer: AIOKafkaProducer
) -> None:
    topic = prepare_topics(settings).alerts
    try:
        rows: list[Row] = [
            (topic, f"k{i % 7}".encode(), f"{i}".encode(), None, None) for i in range(3000)
        ]
        rows.append((topic, None, b"to-partition-2", None, 2))
        await Publisher(lambda: producer).publish(rows)
        got = await read_back(settings, topic, len(rows))
    finally:
        drop_topics(settings)
    assert len(got) == len(rows)
    parts = settings.topic_partitions
    for partition, value in got:
        if value == b"to-partition-2":
            assert partition == 2
        else:
            key = f"k{int(value) % 7}".encode()
            assert partition == (murmur2(key) & 0x7FFFFFFF) % parts
    per_key: dict[bytes, list[int]] = {}
    for _, value in got:
        if value != b"to-partition-2":
            per_key.setdefault(f"k{int(value) % 7}".encode(), []).append(int(value))
    assert all(seq == sorted(seq) for seq in per_key.values())  # a key's rows keep their order


async def test_late_acks_are_logged_with_the_leaders(
    settings: Settings, producer: AIOKafkaProducer, caplog: pytest.LogCaptureFixture
) -> None:
    topic = prepare_topics(settings).alerts
    try:
        rows = [(topic, None, b"x", None, p) for p in range(settings.topic_partitions)]
        with caplog.at_level(logging.WARNING, logger="streams.publisher"):
            await Publisher(lambda: producer, slow_after=0.0).publish(rows)
    finally:
        drop_topics(settings)
    late = [r.getMessage() for r in caplog.records if "no acks after" in r.getMessage()]
    assert len(late) == 1, caplog.text  # slow_after=0: none is acked within no time
    cluster = producer.client.cluster
    for p in range(settings.topic_partitions):
        leader = cluster.leader_for_partition(TopicPartition(topic, p))
        assert leader is not None and leader >= 0
        assert f"'{topic}[{p}]': {leader}" in late[0]


async def test_the_stuck_report_reads_the_producer(
    settings: Settings, producer: AIOKafkaProducer
) -> None:
    """streams/stuck.py reads aiokafka's private fields: they exist in the pinned version."""
    topic = prepare_topics(settings).alerts
    try:
        await Publisher(lambda: producer).publish([(topic, b"k", b"v", None, None)])
        state = producer_state(producer)
    finally:
        drop_topics(settings)
    assert "unavailable" not in state, state
    assert "unsent batches (count, leader) {}" in state  # everything was acked
    assert "sender task done False" in state


async def test_handed_over_batches_do_not_wait_for_linger(settings: Settings) -> None:
    """A batch is complete when handed over: it goes at the sender's next turn. With a
    lingering batch, this producer would hold the records for two minutes and the publish
    would time out after 20 s."""
    lingering = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=120_000
    )
    await lingering.start()
    topic = prepare_topics(settings).alerts
    try:
        rows: list[Row] = [(topic, b"k", b"urgent", None, None)]
        await Publisher(lambda: lingering, ack_timeout=20.0).publish(rows)
        got = await read_back(settings, topic, 1)
    finally:
        await lingering.stop()
        drop_topics(settings)
    assert [value for _, value in got] == [b"urgent"]

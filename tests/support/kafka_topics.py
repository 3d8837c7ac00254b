"""Reading a test's topics back: every record from the start, and the end offsets.

records = read_all(settings, topic, min_count=3)      # waits until at least 3 are there
assert total_end_offset(settings, topic) == before     # nothing was published
"""

from __future__ import annotations

import time

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from gridhub.settings import Settings


def _consumer(settings: Settings) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=500,
    )


def total_end_offset(settings: Settings, topic: str) -> int:
    """The sum of the end offsets of every partition of ``topic``."""
    consumer = _consumer(settings)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(parts).values())
    finally:
        consumer.close()


def read_all(
    settings: Settings, topic: str, min_count: int = 0, timeout: float = 20.0
) -> list[ConsumerRecord]:
    """Every record of ``topic`` from offset 0 up to the end offsets (at least ``min_count``,
    waiting up to ``timeout`` seconds for them)."""
    deadline = time.monotonic() + timeout
    while True:
        consumer = _consumer(settings)
        try:
            parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
            consumer.assign(parts)
            consumer.seek_to_beginning(*parts)
            ends = consumer.end_offsets(parts)
            want = sum(ends.values())
            got: list[ConsumerRecord] = []
            while len(got) < want and time.monotonic() < deadline:
                for batch in consumer.poll(timeout_ms=500).values():
                    got.extend(batch)
        finally:
            consumer.close()
        if len(got) >= min_count or time.monotonic() >= deadline:
            return got
        time.sleep(0.2)

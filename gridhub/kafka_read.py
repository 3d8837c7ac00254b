"""Reading topics to their end now, without a consumer group (rebuilds and restores).

raw = await read_topics(settings, [topics.intake, topics.commands])
for (topic, partition), rows in raw.items():
    for offset, timestamp, key, value, headers in rows: ...
more = await read_topics(settings, names, start={(topic, p): last + 1, ...})   # catch up
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from gridhub.settings import Settings

#: One record: (offset, broker timestamp, key, value, headers).
Row = tuple[int, int, bytes | None, bytes | None, list[Any]]


async def read_topics(
    settings: Settings,
    names: list[str],
    start: Mapping[tuple[str, int], int] | None = None,
) -> dict[tuple[str, int], list[Row]]:
    """Every record of ``names`` up to their end offsets now, per (topic, partition), in
    offset order: from the beginning, or from ``start[(topic, partition)]`` where given.
    Missing topics read as empty."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    out: dict[tuple[str, int], list[Row]] = {}
    begin = start or {}
    try:
        await consumer._client.set_topics(names)  # fetches their metadata now
        parts = [
            TopicPartition(name, p)
            for name in names
            for p in sorted(consumer.partitions_for_topic(name) or ())
        ]
        if not parts:
            return out
        ends = await consumer.end_offsets(parts)
        want = {tp: end for tp, end in ends.items() if end > begin.get((tp.topic, tp.partition), 0)}
        if not want:
            return out
        consumer.assign(list(want))
        from_start = [tp for tp in want if (tp.topic, tp.partition) not in begin]
        if from_start:
            await consumer.seek_to_beginning(*from_start)
        for tp in want:
            if (tp.topic, tp.partition) in begin:
                consumer.seek(tp, begin[(tp.topic, tp.partition)])
        while want:
            batch = await consumer.getmany(*want, timeout_ms=1000, max_records=20_000)
            for tp, records in batch.items():
                bucket = out.setdefault((tp.topic, tp.partition), [])
                for r in records:
                    if r.offset < want.get(tp, 0):
                        bucket.append((r.offset, r.timestamp, r.key, r.value, list(r.headers)))
            for tp in list(want):
                if await consumer.position(tp) >= want[tp]:
                    del want[tp]
    finally:
        await consumer.stop()
    return out

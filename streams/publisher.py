"""Handing a batch's output records to Kafka in per-partition batches, acks awaited once.

``AIOKafkaProducer.send`` costs ~25 µs of CPU per record (partitioner, accumulator, one
future per record); appending to a ``BatchBuilder`` per topic-partition and handing each
full batch over with ``send_batch`` costs ~10 µs (measured on the development machine, same
run). A worker batch of 2,000 matters has ~12,000 records, so this is most of what the
output side costs.

Each batch is closed before it is handed over. aiokafka lets an open batch linger
``linger_ms`` after it is added, waiting for more records; ours never get more, and the
sender's linger timer only fires when the event loop is free. The worker hands its alerts
over and then computes the rest of the batch for hundreds of milliseconds, so a lingering
alert batch left only after that computation.

Partitioning is the producer's own default for keyed records (murmur2 of the key over the
topic's partitions sorted by id, as Kafka's Java client does), so a matter's records land on
the same partitions as before and per-matter order within a partition is kept (appends are
in record order; aiokafka sends a partition's batches in order).

    publisher = Publisher(lambda: aiokafka_producer)
    await publisher.publish([(topic, key, value, headers, None), ...])   # partition None: by key
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import murmur2

log = logging.getLogger(__name__)

#: (topic, key, value, headers, partition or None for the key's default partition)
Row = tuple[str, bytes | None, bytes | None, Sequence[tuple[str, bytes]] | None, int | None]


class Publisher:
    """Publishes rows in per-partition batches; :meth:`publish` returns once all are acked
    (raises ``TimeoutError`` when they are not within ``ack_timeout`` seconds)."""

    def __init__(
        self,
        producer: Callable[[], AIOKafkaProducer],
        ack_timeout: float = 60.0,
        slow_after: float = 10.0,
    ) -> None:
        self._producer = producer
        self._partitions: dict[str, list[int]] = {}
        self._ack_timeout = ack_timeout
        self._slow_after = slow_after

    async def partitions(self, topic: str) -> list[int]:
        """The topic's partition ids, sorted (metadata fetched on first use)."""
        found = self._partitions.get(topic)
        if found is None:
            found = sorted(await self._producer().partitions_for(topic))
            self._partitions[topic] = found
        return found

    async def publish(self, rows: Iterable[Row]) -> None:
        """Send every row; wait until Kafka acknowledged all of them."""
        # Bounded: a batch whose acks never come (seen right after start-up, while the
        # changelog partitions got their leaders) fails and is retried by the caller (same
        # records, same ids) instead of stalling the agent; a slow one is logged with what
        # the producer knows of the partitions it waits for.
        async with asyncio.timeout(self._ack_timeout):
            pending = await self._send(rows)
            if pending:
                _, late = await asyncio.wait(pending.values(), timeout=self._slow_after)
                if late:
                    self._log_late([(t, p) for (t, p, _), f in pending.items() if f in late])
                await asyncio.gather(*pending.values())

    def _log_late(self, tps: list[tuple[str, int]]) -> None:
        """Warn which partitions' acks are late, with the leader the producer sees for each
        (None: unknown topic; -1: no leader yet)."""
        cluster = self._producer().client.cluster
        leaders = {f"{t}[{p}]": cluster.leader_for_partition(TopicPartition(t, p)) for t, p in tps}
        log.warning(
            "no acks after %.0f s for %d partition batches; the producer sees leaders %s",
            self._slow_after,
            len(tps),
            leaders,
        )

    async def _send(self, rows: Iterable[Row]) -> dict[Any, asyncio.Future[Any]]:
        """Hand every row to the producer; the delivery futures by (topic, partition, n)."""
        producer = self._producer()
        batches: dict[tuple[str, int], Any] = {}
        futures: dict[tuple[str, int, int], asyncio.Future[Any]] = {}
        hashes: dict[bytes, int] = {}
        for topic, key, value, headers, partition in rows:
            if partition is None:
                parts = self._partitions.get(topic) or await self.partitions(topic)
                if key is None:
                    partition = random.choice(parts)
                else:
                    h = hashes.get(key)
                    if h is None:
                        h = hashes[key] = murmur2(key) & 0x7FFFFFFF
                    partition = parts[h % len(parts)]
            tp = (topic, partition)
            batch = batches.get(tp)
            if batch is None:
                batch = batches[tp] = producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                batch.close()
                sent = await producer.send_batch(batch, topic, partition=partition)
                futures[(topic, partition, len(futures))] = sent
                batch = batches[tp] = producer.create_batch()
                if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                    raise ValueError(f"record of {len(value or b'')} bytes exceeds the batch size")
        for (topic, partition), batch in batches.items():
            batch.close()  # complete: sent at the sender's next turn, not after linger_ms
            sent = await producer.send_batch(batch, topic, partition=partition)
            futures[(topic, partition, len(futures))] = sent
        return futures

    def forget(self) -> None:
        """Drop cached partition counts (topics may have been re-created)."""
        self._partitions.clear()

"""The dead-letter topic: every consumer's refused input records, in one format.

A consumer that cannot read a record publishes it here with the reason, waits for Kafka's
acknowledgement, and only then moves its offset past it; the records around it go on.

    dead = DeadLetters(settings, source="/wallboard/feeder")
    await dead.publish([dead.record(str(exc), consumer_record)])   # returns once acked
    await dead.stop()

The record (``gridhub.deadletter.v1``, id ``dl:<topic>:<partition>:<offset>``, so a re-sent
one is recognised, and the original key): the body is ``{"reason", "topic", "partition",
"offset", "key_b64", "value_b64", "headers": [[name, value_b64], ...]}`` — the original
record, byte for byte, plus why it was refused; the reason is also in the ``ce_reason``
header, and ``ce_source`` names the consumer that refused it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer

from gridhub.cloudevents import CloudEvent, KafkaRecord, encode, register
from gridhub.settings import Settings
from gridhub.topics import Topics

log = logging.getLogger("gridhub.deadletter")
DEAD_LETTER = register("deadletter", 1)
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)


def _b64(raw: bytes | None) -> str | None:
    return base64.b64encode(raw).decode() if raw is not None else None


def dead_letter_record(
    reason: str,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
    *,
    source: str,
) -> KafkaRecord:
    """The dead-letter record of a refused input record (see the module doc)."""
    data = {
        "reason": reason,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "key_b64": _b64(key),
        "value_b64": _b64(value),
        "headers": [[name, _b64(bytes(raw))] for name, raw in headers],
    }
    event = CloudEvent.new(
        "deadletter",
        1,
        source=source,
        data=data,
        id=f"dl:{topic}:{partition}:{offset}",
        time=datetime.now(UTC),
        extensions={"reason": reason[:500].replace("\n", " ")},
    )
    record = encode(event)
    return KafkaRecord(key=key, value=record.value, headers=record.headers)


class DeadLetters:
    """Publishes one consumer's dead letters, acks=all and idempotent (see the module doc).

    The producer starts on the first dead letter, so a consumer that never refuses a
    record never opens one. :meth:`publish` retries until Kafka has acknowledged every
    record: the caller must not move its offset past a bad record before that."""

    def __init__(self, settings: Settings, source: str, ack_timeout: float = 30.0) -> None:
        self.settings = settings
        self.source = source
        self.topic = Topics.from_settings(settings).dead_letter
        self.ack_timeout = ack_timeout
        self._producer: AIOKafkaProducer | None = None

    def record(self, reason: str, record: Any) -> KafkaRecord:
        """The dead letter of a consumer record (anything with topic, partition, offset,
        key, value and headers, e.g. aiokafka's ``ConsumerRecord``)."""
        return dead_letter_record(
            reason,
            record.topic,
            record.partition,
            record.offset,
            record.key,
            record.value,
            list(record.headers or ()),
            source=self.source,
        )

    async def _send_all(self, records: Sequence[KafkaRecord]) -> None:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.settings.kafka_bootstrap,
                client_id=f"gridhub-deadletter{self.source.replace('/', '-')}",
                acks="all",
                enable_idempotence=True,
                request_timeout_ms=int(self.ack_timeout * 1000),
            )
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        futures = [
            await self._producer.send(self.topic, value=r.value, key=r.key, headers=r.headers)
            for r in records
        ]
        async with asyncio.timeout(self.ack_timeout):
            await asyncio.gather(*futures)

    async def publish(self, records: Sequence[KafkaRecord]) -> None:
        """Publish ``records`` and return once Kafka acknowledged all of them; while it
        does not, retry (same ids) with backoff, logging each failure."""
        attempt = 0
        while records:
            try:
                await self._send_all(records)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
                attempt += 1
                log.error(
                    "%s: %d dead letter(s) not acknowledged (%r); retrying in %.1f s",
                    self.source,
                    len(records),
                    exc,
                    delay,
                )
                await self.stop()  # a fresh producer on the next attempt
                await asyncio.sleep(delay)

    async def stop(self) -> None:
        """Close the producer (a later :meth:`publish` opens a new one)."""
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await producer.stop()
            except Exception as exc:
                log.warning("%s: closing the dead-letter producer: %r", self.source, exc)

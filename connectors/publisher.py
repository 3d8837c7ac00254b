"""The kafka-python producer of intake: acks=all, idempotent, batched, bridged to asyncio.

    publisher = IntakePublisher(settings, timeout_ms=4000, linger_ms=5)
    metadata = await publisher.publish(topic, encode(event))   # raises IntakeUnavailable

``publish`` returns only after the broker acknowledged the write (acks=all), so a caller
may answer 2xx. Any Kafka failure (no broker, timeout, fatal producer error) becomes
:class:`~connectors.errors.IntakeUnavailable`, and the producer is rebuilt on the next call
so an idempotent producer never stays wedged after an outage.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from connectors.errors import IntakeUnavailable
from gridhub.cloudevents import KafkaRecord
from gridhub.settings import Settings

log = logging.getLogger(__name__)
#: Seconds during which publishes fail fast after the producer could not be (re)built.
RECONNECT_PAUSE = 1.0


class IntakePublisher:
    """One shared producer per process; safe to call from many coroutines at once."""

    def __init__(
        self,
        settings: Settings,
        *,
        timeout_ms: int = 4000,
        linger_ms: int = 5,
        retry_after: int = 5,
        client_id: str = "gridhub-intake",
    ) -> None:
        self._settings = settings
        self._timeout_ms = timeout_ms
        self._linger_ms = linger_ms
        self._retry_after = retry_after
        self._client_id = client_id
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._reconnect_at = 0.0

    def _config(self) -> dict[str, Any]:
        request_timeout = max(500, self._timeout_ms // 2)
        return {
            "bootstrap_servers": self._settings.kafka_bootstrap.split(","),
            "client_id": self._client_id,
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": self._linger_ms,
            "batch_size": 64 * 1024,
            "max_block_ms": self._timeout_ms,
            "request_timeout_ms": request_timeout,
            "delivery_timeout_ms": max(self._timeout_ms, request_timeout + self._linger_ms),
            "bootstrap_timeout_ms": self._timeout_ms,
            "reconnect_backoff_max_ms": 1000,
        }

    def _current(self) -> KafkaProducer:
        """The live producer, created on first use (blocking: call from a worker thread).

        While one thread (re)builds the producer, which blocks up to the bootstrap timeout
        when the broker is down, the others answer "unavailable" at once instead of queueing
        behind it; after a failed build, so does everyone for :data:`RECONNECT_PAUSE`
        seconds. Under load during an outage, requests queued behind the build and timed out
        instead of getting their 503 (tests/reliability/test_kafka_outage.py)."""
        producer = self._producer
        if producer is not None and not self._closed:
            return producer
        if time.monotonic() < self._reconnect_at:
            raise IntakeUnavailable("Kafka is unavailable (reconnecting)", self._retry_after)
        if not self._lock.acquire(blocking=False):
            raise IntakeUnavailable("Kafka is unavailable (reconnecting)", self._retry_after)
        try:
            if self._closed:
                raise IntakeUnavailable("intake is shutting down", self._retry_after)
            if self._producer is None:
                try:
                    self._producer = KafkaProducer(**self._config())
                except Exception:
                    self._reconnect_at = time.monotonic() + RECONNECT_PAUSE
                    raise
            return self._producer
        finally:
            self._lock.release()

    def _discard(self, producer: KafkaProducer) -> None:
        """Drop ``producer`` after a failure so the next publish builds a fresh one (no lock:
        this runs on the event loop, and a build in progress holds the lock for seconds)."""
        if self._producer is not producer:
            return
        self._producer = None
        threading.Thread(target=lambda: _quiet_close(producer), daemon=True).start()

    def _ready(self, topic: str) -> bool:
        """True when the live producer already knows ``topic``'s partitions, so ``send``
        returns at once; otherwise the first send may block and runs in a thread."""
        producer = self._producer
        if producer is None:
            return False
        return bool(producer._metadata.partitions_for_topic(topic))

    def start(self) -> None:
        """Try to connect now (blocking); a broker that is down is not an error here."""
        try:
            self._current()
        except (KafkaError, IntakeUnavailable, OSError) as exc:
            log.warning("Kafka not reachable at start (%s); will retry on first publish", exc)

    async def publish(self, topic: str, record: KafkaRecord) -> Any:
        """Send ``record`` to ``topic`` and wait for the broker's ack; return its metadata.

        Raises :class:`IntakeUnavailable` when the write cannot be confirmed in time.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()

        def resolve(value: Any) -> None:
            if not done.done():
                done.set_result(value)

        def reject(exc: BaseException) -> None:
            if not done.done():
                done.set_exception(exc)

        def send() -> KafkaProducer:
            producer = self._current()
            future = producer.send(
                topic, key=record.key, value=record.value, headers=record.headers
            )
            future.add_callback(lambda md: loop.call_soon_threadsafe(resolve, md))
            future.add_errback(lambda exc: loop.call_soon_threadsafe(reject, exc))
            return producer

        try:
            if self._ready(topic):
                producer = send()  # metadata cached: send() only appends, never blocks
            else:
                producer = await asyncio.to_thread(send)  # may wait for a broker
        except IntakeUnavailable:
            raise
        except Exception as exc:  # any producer failure means: not accepted, try later
            raise IntakeUnavailable(f"Kafka is unavailable: {exc}", self._retry_after) from None
        try:
            return await asyncio.wait_for(done, timeout=self._timeout_ms / 1000 + 2)
        except Exception as exc:  # KafkaError, timeout, or a fatal idempotence error
            self._discard(producer)
            reason = exc.__class__.__name__ if isinstance(exc, TimeoutError) else exc
            raise IntakeUnavailable(
                f"Kafka did not confirm the write: {reason}", self._retry_after
            ) from None

    async def close(self) -> None:
        """Flush what is pending and close the producer."""
        with self._lock:
            producer, self._producer = self._producer, None
            self._closed = True
        if producer is not None:
            await asyncio.to_thread(producer.close, timeout=self._timeout_ms / 1000)


def _quiet_close(producer: KafkaProducer) -> None:
    """Close a discarded producer; what it still held failed already, so errors are noise."""
    try:
        producer.close(timeout=0)
    except Exception as exc:
        log.debug("closing a discarded producer: %r", exc)

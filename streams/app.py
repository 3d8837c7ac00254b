"""The Faust app: ``create_app(settings)`` wires the agent, the tables and the deadline firer.

One agent subscribes to ``matters.intake`` and ``matters.commands`` (same partition count,
both keyed by matter id), so each matter has exactly one writer and its records are applied
in order. It takes batches (``take_events``) and hands them to :class:`BatchRuntime`.

State: table ``matters`` (matter id → Matter, changelog-backed) and ``hotspots`` (partition
→ hotspot detector). Batches write the tables through the store plus one explicit
``send_changelog`` per matter per batch, to the partition of the input record: Faust's
``table[key] = value`` needs a "current event", which a batch does not have, and would write
one changelog record per event instead of per matter.

Delivery guarantee: **at-least-once with deterministic ids** (``processing_guarantee`` stays
``at_least_once``; Faust's ``exactly_once`` was not adopted, and not measured here). It
opens one transactional producer per assigned partition and commits a Kafka transaction per
commit, and it would force every consumer of our outputs (wallboard feeder, dispatch
webhooks, departments' own systems reading ``dept.<code>`` with kcat) to read with
``isolation.level=read_committed``. Instead:

* every output's CloudEvent id is derived from the input (event id, warning id, ...), so a
  replay re-sends the same ids and consumers dedupe by ``ce_id``;
* the Redis projections are exactly-once by an input-offset guard (:mod:`.projections`);
* the domain makes timer ticks idempotent (a warning id fires once per matter state), so
  a duplicated ``DeadlineDue`` is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import faust
import redis.asyncio as aioredis
from faust.types import EventT, StreamT, TableT
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gridhub.cloudevents import KafkaRecord
from gridhub.commands_topic import command_record
from gridhub.domain.commands import Command
from gridhub.kafka_admin import all_topics, ensure_topics
from gridhub.keys import RedisKeys
from gridhub.settings import Settings, get_settings
from gridhub.topics import Topics
from streams.context import build_context
from streams.deadlines import DeadlineFirer, DeadlineIndex
from streams.processor import InRecord, Processor
from streams.projections import Projector
from streams.runtime import BatchRuntime

log = logging.getLogger(__name__)

RawSend = Callable[[str, bytes, bytes, int], Awaitable[Awaitable[Any]]]


def app_id(settings: Settings) -> str:
    """The Faust app id (= Kafka consumer group and changelog prefix)."""
    return settings.streams_app_id or f"{settings.topic_prefix}gridhub-streams"


def data_dir(settings: Settings) -> Path:
    """Where Faust keeps its local files."""
    if settings.streams_data_dir is not None:
        return settings.streams_data_dir
    return Path(tempfile.gettempdir()) / "gridhub-streams" / app_id(settings)


class TableStore:
    """A Faust table seen as the runtime's :class:`~streams.runtime.Store`.

    Changelog records go straight to the producer (``send``) rather than through
    ``Table.send_changelog``, whose buffer hands messages to Kafka one at a time and
    stalled the worker at ~300 matters/s; the record is the same (key, raw value, the
    input's partition), so Faust's recovery reads it back as usual.
    """

    def __init__(self, table: TableT[Any, Any], send: RawSend) -> None:
        self.table = table
        self.send = send
        self.topic = table.changelog_topic.get_topic_name()

    def get(self, key: bytes) -> Any:
        """The stored value (an object written live, or raw bytes after recovery)."""
        return self.table.data.get(key)

    async def put(self, partition: int, key: bytes, value: Any, raw: bytes) -> Awaitable[Any]:
        """Keep ``value`` locally; send ``raw`` to changelog partition ``partition``; returns
        the future of the changelog write's ack."""
        self.table.data[key] = value
        return await self.send(self.topic, key, raw, partition)


def to_record(event: EventT) -> InRecord:
    """The runtime's view of a consumed Faust event."""
    message = event.message
    raw = message.headers or []
    headers = list(raw.items()) if isinstance(raw, Mapping) else list(raw)
    return InRecord(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=headers,
    )


def create_app(settings: Settings | None = None) -> faust.App:
    """Build the stream worker's Faust app (no connection is opened until it starts)."""
    settings = settings or get_settings()
    for noisy in ("aiokafka", "kafka"):  # their per-message debug records cost ~10% CPU
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLogger().level))
    topics = Topics.from_settings(settings)
    ctx = build_context(settings)
    keys = RedisKeys(settings.redis_prefix)
    app = faust.App(
        app_id(settings),
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",
        datadir=str(data_dir(settings)),
        autodiscover=False,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.replication_factor,
        web_enabled=settings.streams_web,
        web_port=settings.streams_port,
        web_bind=settings.host,
        web_host=settings.host,
        producer_acks=-1,
        producer_linger_ms=5,
        producer_max_batch_size=512 * 1024,
        producer_max_request_size=4 * 1024 * 1024,
        stream_buffer_maxsize=max(4096, 2 * settings.streams_batch_size),
        consumer_auto_offset_reset="earliest",
        broker_commit_every=10_000,
        broker_commit_interval=1.0,
        table_standby_replicas=0,
        logging_config=None,
    )
    matters_table = app.Table("matters", default=None, key_type=bytes, value_type=bytes)
    hotspots_table = app.Table("hotspots", default=None, key_type=bytes, value_type=bytes)
    source = app.topic(topics.intake, topics.commands, key_serializer="raw", value_serializer="raw")
    state: dict[str, Any] = {}

    async def send(topic: str, record: KafkaRecord) -> Awaitable[Any]:
        return await app.producer.send(topic, record.key, record.value, None, None, record.headers)

    async def send_raw(topic: str, key: bytes, value: bytes, partition: int) -> Awaitable[Any]:
        return await app.producer.send(topic, key, value, partition, None, None)

    async def send_commands(records: list[KafkaRecord]) -> None:
        futures = [await send(topics.commands, r) for r in records]
        await asyncio.gather(*futures)

    def owned_partitions() -> set[int]:
        with contextlib.suppress(Exception):
            return {tp.partition for tp in app.consumer.assignment() if tp.topic == topics.commands}
        return set()

    def runtime() -> BatchRuntime:
        found = state.get("runtime")
        if found is None:
            redis = aioredis.from_url(str(settings.redis_url))
            state["redis"] = redis
            found = BatchRuntime(
                Processor(ctx, topics),
                Projector(redis, keys, ctx, max(600, settings.command_status_ttl_seconds)),
                DeadlineIndex(redis, keys),
                TableStore(matters_table, send_raw),
                TableStore(hotspots_table, send_raw),
                send,
                settings.hotspot_threshold,
                settings.hotspot_window_seconds,
            )
            state["runtime"] = found
        return found

    @app.on_worker_init.connect
    def _create_topics(sender: Any, /, *_: Any, signal: Any = None, **__: Any) -> None:
        ensure_topics(settings, all_topics(topics, ctx.city))

    @app.on_partitions_revoked.connect
    async def _revoked(sender: Any, /, *_: Any, signal: Any = None, **__: Any) -> None:
        if "runtime" in state:
            state["runtime"].forget_partitions()

    @app.agent(source, name="matters")
    async def process(stream: StreamT[bytes]) -> None:
        """Apply intake and commands in batches (see the module doc)."""
        batch, within = settings.streams_batch_size, settings.streams_batch_seconds
        take_events = stream.take_events  # type: ignore[attr-defined]  # not on StreamT
        async for events in take_events(batch, within=within):
            await handle_batch(runtime(), events)

    @app.task
    async def fire_deadlines() -> None:
        """Claim due deadlines of the owned partitions and send their DeadlineDue commands."""
        rt = runtime()

        def encode(command: Command) -> KafkaRecord:
            return command_record(command, source="/streams/deadlines")

        firer = DeadlineFirer(rt.index, send_commands, owned_partitions, encode)
        await firer.run()

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    return app


async def handle_batch(rt: BatchRuntime, events: Sequence[EventT]) -> None:
    """Run one batch; a bug must not kill the agent, so it is logged and the batch retried
    record by record (each failing record is then dead-lettered by the processor)."""
    records = [to_record(e) for e in events]
    try:
        await rt.handle(records)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("batch of %d records failed; retrying one by one", len(records))
        for record in records:
            await _retry_one(rt, record)


async def _retry_one(rt: BatchRuntime, record: InRecord) -> None:
    for attempt in range(1, 6):
        try:
            await rt.handle([record])
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "record %s[%d]@%d failed (attempt %d)",
                record.topic,
                record.partition,
                record.offset,
                attempt,
            )
            await asyncio.sleep(min(5.0, 0.2 * 2**attempt))
    raise RuntimeError(f"giving up on {record.topic}[{record.partition}]@{record.offset}")

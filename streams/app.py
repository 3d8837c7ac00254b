"""The Faust app: ``create_app(settings)`` wires the agent, the tables and the deadline firer.

One agent subscribes to ``matters.intake`` and ``matters.commands`` (same partition count,
both keyed by matter id), so each matter has exactly one writer and its records are applied
in order. It takes batches (``take_events``) and hands them to :class:`BatchRuntime`.

State: table ``matters`` (matter id → Matter, changelog-backed); the city-wide hotspot
counts and the deadline index live in Redis (:mod:`.hotspots`, :mod:`.deadlines`). Batches
write the table through the store plus one explicit ``send_changelog`` per matter per
batch, to the partition of the input record: Faust's ``table[key] = value`` needs a
"current event", which a batch does not have, and would write one changelog record per
event instead of per matter.

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
  a duplicated ``DeadlineDue`` is harmless;
* no input record is committed before the agent has seen it: Faust commits past offsets
  its fetcher skipped, and :mod:`.delivery` reads such records again (and keeps a
  rebalance from processing records its seek is about to move back under);
* after an assignment, a partition's commands and deadline ticks wait until its intake
  backlog is processed (:mod:`.catchup`), so they never meet a matter whose Accept a
  killed worker processed but did not save.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import faust
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer
from faust.types import EventT, StreamT, TableT
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gridhub.cloudevents import KafkaRecord
from gridhub.commands_topic import ticks_record
from gridhub.kafka_admin import all_topics, ensure_topics
from gridhub.keys import RedisKeys
from gridhub.settings import Settings, get_settings
from gridhub.topics import Topics
from streams.catchup import CaughtUp
from streams.context import build_context
from streams.deadlines import DeadlineFirer, DeadlineIndex
from streams.delivery import InputGuard, guard_input_delivery
from streams.finish import to_the_end, worker_class
from streams.hotspots import HotspotCounter
from streams.log_ends import LogEnds, highwaters_of
from streams.processor import InRecord, Processor
from streams.projections import Projector
from streams.publisher import Publisher
from streams.rebuild import ProjectionGuard
from streams.runtime import BatchRuntime
from streams.stall import StallWatch, revive_stalled
from streams.stuck import SlowBatchWatch, where_stuck
from streams.tuning import BatchGc, fast_drain, quiet_sensors, tune_gc

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
#: how long a stopping worker lets its current batch finish (see :mod:`streams.finish`)
STOP_GRACE_SECONDS = 30.0


def app_id(settings: Settings) -> str:
    """The Faust app id (= Kafka consumer group and changelog prefix)."""
    return settings.streams_app_id or f"{settings.topic_prefix}gridhub-streams"


def data_dir(settings: Settings) -> Path:
    """Where Faust keeps its local files, created if missing: ``GRIDHUB_STREAMS_DATA_DIR``,
    else ``.local/gridhub-streams/<app id>`` in the checkout, else a folder under the
    system's temp dir (a read-only install)."""
    if settings.streams_data_dir is not None:
        candidates = [settings.streams_data_dir]
    else:
        name = app_id(settings)
        candidates = [
            ROOT / ".local" / "gridhub-streams" / name,
            Path(tempfile.gettempdir()) / "gridhub-streams" / name,
        ]
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            return folder
        except OSError:
            if folder is candidates[-1]:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


class TableStore:
    """A Faust table seen as the runtime's :class:`~streams.runtime.Store`.

    The runtime publishes the changelog records itself, in one batch per input batch,
    rather than through ``Table.send_changelog``, whose buffer hands messages to Kafka one
    at a time and stalled the worker at ~300 matters/s; the record is the same (key, raw
    value, the input's partition), so Faust's recovery reads it back as usual.
    """

    def __init__(self, table: TableT[Any, Any]) -> None:
        self.table = table
        self.topic = table.changelog_topic.get_topic_name()

    def get(self, key: bytes) -> bytes | None:
        """The stored value: the changelog record's bytes (written live or recovered)."""
        return self.table.data.get(key)

    def keep(self, key: bytes, value: bytes) -> None:
        """Keep ``value`` locally (its changelog record is the runtime's to publish)."""
        self.table.data[key] = value


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
        # Faust's default is 1,200 s: one produce request whose response never came would
        # hold every later batch to that broker for 20 minutes (aiokafka keeps one request
        # in flight per broker). Kafka's own clients default to 30 s; the request is then
        # failed, and its batches are sent again.
        producer_request_timeout=30.0,
        producer_linger_ms=5,
        producer_max_batch_size=512 * 1024,
        producer_max_request_size=4 * 1024 * 1024,
        # Consumption overlaps processing: the fetcher thread keeps filling the stream
        # buffer (two batches deep) while a batch is processed and its acks awaited.
        stream_buffer_maxsize=max(4096, 2 * settings.streams_batch_size),
        broker_max_poll_records=max(1000, settings.streams_batch_size),
        consumer_max_fetch_size=4 * 1024 * 1024,
        consumer_auto_offset_reset="earliest",
        broker_commit_every=10_000,
        broker_commit_interval=1.0,
        # A worker killed with -9 sends no LeaveGroup: its partitions wait for the session
        # timeout (Faust's default 60 s) before anyone processes them again. Heartbeats run
        # on the consumer's own thread, so a long batch does not miss them.
        broker_session_timeout=settings.streams_session_timeout_seconds,
        broker_request_timeout=max(
            settings.streams_request_timeout_seconds, settings.streams_session_timeout_seconds
        ),
        broker_heartbeat_interval=settings.streams_session_timeout_seconds / 3,
        table_standby_replicas=0,
        Worker=worker_class(settings.streams_stop_seconds),
        logging_config=None,
    )
    matters_table = app.Table("matters", default=None, key_type=bytes, value_type=bytes)
    source = app.topic(topics.intake, topics.commands, key_serializer="raw", value_serializer="raw")
    state: dict[str, Any] = {}

    def producer() -> AIOKafkaProducer:  # Faust's own aiokafka producer (flushed on commit)
        return app.producer._ensure_producer()  # type: ignore[attr-defined]

    publisher = Publisher(producer)
    watch = StallWatch(after=settings.streams_stall_seconds)
    caught = CaughtUp()
    collector = BatchGc()

    async def send_ticks(rows: list[tuple[KafkaRecord, int]]) -> None:
        await publisher.publish((topics.commands, r.key, r.value, r.headers, p) for r, p in rows)

    def owned_partitions() -> set[int]:
        with contextlib.suppress(Exception):
            return {tp.partition for tp in app.consumer.assignment() if tp.topic == topics.commands}
        return set()

    def waits_for_intake(tp: Any) -> bool:
        """Whether a commands partition waits for its intake backlog (see
        :mod:`streams.delivery`)."""
        return tp.topic == topics.commands and not caught.ready({tp.partition})

    def resume_ready() -> None:
        guard: InputGuard[Any] | None = state.get("inputs")
        if guard is not None:
            guard.resume_ready()

    def runtime() -> BatchRuntime:
        found = state.get("runtime")
        if found is None:
            redis = aioredis.from_url(str(settings.redis_url))
            state["redis"] = redis
            found = BatchRuntime(
                Processor(ctx, topics),
                Projector(redis, keys, ctx, max(600, settings.command_status_ttl_seconds)),
                DeadlineIndex(redis, keys),
                HotspotCounter(
                    redis, keys, settings.hotspot_threshold, settings.hotspot_window_seconds
                ),
                TableStore(matters_table),
                publisher.publish,
            )
            state["runtime"] = found
            state["guard"] = ProjectionGuard(settings, redis)
        return found

    @app.on_worker_init.connect
    def _create_topics(sender: Any, /, *_: Any, signal: Any = None, **__: Any) -> None:
        if state.get("worker_ready"):  # Faust's CLI sends this signal twice
            return
        state["worker_ready"] = True
        ensure_topics(settings, all_topics(topics, ctx.city))
        fast_drain(app)
        state["inputs"] = guard_input_delivery(
            app, {topics.intake, topics.commands}, waits_for_intake
        )
        quiet_sensors(app)
        tune_gc()

    @app.on_partitions_revoked.connect
    async def _revoked(sender: Any, /, *_: Any, signal: Any = None, **__: Any) -> None:
        watch.forget()
        caught.forget()

    @app.agent(source, name="matters")
    async def process(stream: StreamT[bytes]) -> None:
        """Apply intake and commands in batches (see the module doc)."""
        batch, within = settings.streams_batch_size, settings.streams_batch_seconds
        take_events = stream.take_events  # type: ignore[attr-defined]  # not on StreamT
        async for events in take_events(batch, within=within):
            # Faust acks the batch when the loop leaves it, even on cancellation: finish it
            await to_the_end(run_batch(events), within=STOP_GRACE_SECONDS)

    async def run_batch(events: Sequence[EventT]) -> None:
        rt = runtime()
        guard: ProjectionGuard = state["guard"]
        state["batch_started"] = time.monotonic()  # a rebuild it waits for counts too
        try:
            async with guard.lock:  # a rebuild of an empty store never interleaves a batch
                await guard.ensure(locked=True)
                with collector.batch():
                    await handle_batch(rt, events)
        finally:
            state["batch_started"] = None
        for event in events:
            message = event.message
            if message.topic == topics.intake:
                caught.processed(message.partition, message.offset)
        resume_ready()

    intake_ends: LogEnds[Any] = LogEnds(
        highwaters_of(lambda: app.consumer), within=5.0, what="intake backlog of new partitions"
    )
    input_ends: LogEnds[Any] = LogEnds(
        highwaters_of(lambda: app.consumer),
        within=settings.streams_stall_seconds,
        what="stall check",
    )

    @app.timer(0.5)
    async def track_assignment() -> None:
        """Note each newly owned partition's intake end: its deadlines fire, and its
        commands are read, once that much intake is processed (see :mod:`streams.catchup`)."""
        if app.rebalancing or app.in_recovery:
            return
        new = caught.unknown(owned_partitions())
        consumer: Any = app.consumer
        tps = [tp for tp in consumer.assignment() if tp.topic == topics.intake]
        tps = [tp for tp in tps if tp.partition in new]
        if not tps:
            return
        ends = await intake_ends.of(tps)
        if ends is None:  # revoked meanwhile, Kafka away: the next tick asks again
            return
        committed = {tp.partition: consumer._committed_offset.get(tp) for tp in tps}
        caught.assigned({tp.partition: ends[tp] for tp in tps}, committed)
        resume_ready()

    @app.timer(1.0)
    async def watch_projections() -> None:
        """Rebuild the projections from Kafka when the store is empty (Redis lost its data),
        also while no batch arrives (see :mod:`streams.rebuild`)."""
        runtime()
        await state["guard"].ensure()

    slow = SlowBatchWatch(after=settings.streams_slow_batch_seconds)

    @app.timer(1.0)
    async def watch_batch() -> None:
        """Log where the running batch is stuck once it has run far too long (see
        :mod:`streams.stuck`)."""
        started = state.get("batch_started")
        if slow.due(time.monotonic(), started):
            log.warning(
                "a batch has run for %.0f s; where it waits:\n%s",
                slow.after,
                where_stuck(producer()),
            )

    def in_long_batch() -> bool:  # nothing is committed until it ends
        started = state.get("batch_started")
        return started is not None and time.monotonic() - started > 1.0

    @app.timer(max(1.0, settings.streams_stall_seconds / 5))
    async def watch_inputs() -> None:
        """Seek back an input partition whose committed offset is stuck below its log end
        (see :mod:`streams.stall`)."""
        guard: InputGuard[Any] | None = state.get("inputs")
        held = guard.held if guard is not None else (lambda tp: False)
        await revive_stalled(
            app, watch, (topics.intake, topics.commands), in_long_batch, input_ends, held
        )

    @app.task
    async def fire_deadlines() -> None:
        """Claim due deadlines of the owned partitions and send their DeadlineDue commands."""
        rt = runtime()

        def ready() -> set[int]:
            return caught.ready(owned_partitions())

        firer = DeadlineFirer(rt.index, send_ticks, ready, ticks_record)
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

"""One batch, end to end: process (pure), publish, project, schedule timers, persist state.

Order, and why it gives at-least-once outputs with exactly-once effects:

1. :class:`~streams.processor.Processor` computes everything from the batch (no I/O), in
   two halves. Alert records are complete after the first (the records applied): they are
   published and acknowledged then, since supervisors and hubs wait for those, and do not
   wait for the second half (views, tasks, deltas, timers) nor for the other outputs.
   The batch's accepted matters are counted for hotspots meanwhile (one Redis call,
   :mod:`streams.hotspots`); the alerts of hotspots found are published right after.
2. In parallel: every other output record is handed to the producer in per-partition batches
   (:class:`~streams.publisher.Publisher`) and all acks are awaited; the Redis projections
   go in one atomic call (offset-guarded, see :mod:`streams.projections`).
3. Then the deadline index's changes (one call). Only after the acks: a timer in the index
   means the outputs of the batch that scheduled it are in Kafka. Otherwise a crash could
   leave a timer whose tick, replayed in one batch with its matter's Accept, makes the
   matter's first department task (version 1) never appear, superseded by version 2.
4. Only then the new states are written to the table and its changelog (one changelog
   record per matter per batch, sent as one publish). Faust flushes the producer before it
   commits offsets.

A crash before (4) replays the batch from the last commit with the old state: the same
outputs are produced again with the same deterministic ids (consumers dedupe by id) and
projections skip the offsets already written. A crash after (4) but before the commit
replays inputs against the new state: commands are idempotent there (a duplicate Accept
or an already fired warning produces nothing).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from gridhub.cloudevents import KafkaRecord
from streams import metrics
from streams.deadlines import DeadlineIndex
from streams.hotspots import HotspotCounter
from streams.processor import BatchResult, InRecord, Processor
from streams.projections import Projector
from streams.publisher import Row
from streams.states import MatterStates, Store

log = logging.getLogger(__name__)

Publish = Callable[[Iterable[Row]], Awaitable[None]]


class BatchRuntime:
    """Runs batches (see the module doc); ``publish`` sends rows (topic, key, value,
    headers, partition or None) and returns once Kafka acknowledged them all."""

    def __init__(
        self,
        processor: Processor,
        projector: Projector,
        index: DeadlineIndex,
        hotspots: HotspotCounter,
        matters: Store,
        publish: Publish,
    ) -> None:
        self.processor = processor
        self.projector = projector
        self.index = index
        self.hotspots = hotspots
        self.matters = matters
        self.publish = publish
        self.states = MatterStates(matters)

    async def handle(self, records: Sequence[InRecord]) -> BatchResult:
        """Process, publish, project and persist one batch."""
        started = time.perf_counter()
        result = self.processor.apply_records(records, self.states.get)
        # The alerts are complete once the records are applied: they are published, and
        # acknowledged, before the CPU-bound rest (views, tasks, deltas, timers). Handing
        # them over without waiting was not enough: the loop then stays busy with that
        # rest, and the producer's sending and the socket writes of a wave of alerts
        # waited for it (measured: 240-360 ms of a 1,500-warning wave's lateness).
        _, hot = await asyncio.gather(
            self._publish(result.urgent), self.hotspots.observe(result.sightings)
        )
        if hot:
            await self._publish(self.processor.hotspot_alerts(result, hot))
        self.processor.finish(result)
        max_offsets: dict[str, int] = {}
        topics: Counter[str] = Counter()
        for r in records:
            tp = f"{r.topic}:{r.partition}"
            if r.offset > max_offsets.get(tp, -1):
                max_offsets[tp] = r.offset
            topics[r.topic] += 1
        for topic, count in topics.items():
            metrics.RECORDS.labels(topic).inc(count)
        pending: list[Awaitable[Any]] = [
            self._publish(result.records),
            self.projector.write(result, max_offsets),
        ]
        await asyncio.gather(*pending)
        await self.projector.write_timers(result)
        await self._persist(result)
        self._announce(result)
        metrics.BATCH_SIZE.observe(len(records))
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
        return result

    async def _publish(self, records: list[tuple[str, KafkaRecord]]) -> None:
        if records:
            await self.publish((t, r.key, r.value, r.headers, None) for t, r in records)
        metrics.OUTPUTS.inc(len(records))

    async def _persist(self, result: BatchResult) -> None:
        rows: list[Row] = []
        matters = self.matters
        for work in result.works.values():
            if work.changed and work.state is not None:
                raw = self.states.keep(work.state)
                rows.append((matters.topic, work.matter_id.encode(), raw, None, work.partition))
        if rows:
            await self.publish(rows)

    def _announce(self, result: BatchResult) -> None:
        metrics.DEAD_LETTERS.inc(result.dead_letters)
        for year in result.fallback_years:
            metrics.CALENDAR_FALLBACK.labels(str(year)).set(1)

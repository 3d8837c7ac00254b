"""Noticing an input partition the consumer stopped delivering, and getting it going again.

Seen on a loaded 2-core machine (2 of 14 runs of ``tests/streams/test_restart_integration.py``
and once in CI): after a worker was killed and restarted, some ``matters.intake`` partitions
were assigned to the new worker but never delivered to its agent. Their committed offsets
stayed where the killed worker had left them while every other partition was processed, and
nothing was logged (Faust only warns about a silent partition after
``stream_processing_timeout``, 300 s, and does nothing about it).

:class:`StallWatch` is the pure part: it is told the offsets the agent handled and, now and
then, each input partition's log end and committed offset; it names the partitions that
have records waiting while their position has not moved for ``after`` seconds. The worker
(:func:`streams.app.create_app`) then revives such a partition: it logs what the consumer
holds for it, makes sure it is active, and seeks it back to its committed offset (records
past the committed offset that were already processed are re-applied, as after a crash; the
outputs carry the same ids, see :mod:`streams.app`).

    watch = StallWatch(after=15.0)
    watch.handled({("t.matters.intake", 0): 41})                   # after each batch
    stuck = watch.stalled(now, ends={tp: 94, ...}, committed={tp: 43, ...})
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from streams.metrics import STALLS

log = logging.getLogger(__name__)

#: (topic, partition): Faust's and aiokafka's ``TopicPartition`` are such named tuples
Partition = tuple[str, int]


@dataclass
class StallWatch:
    """Per partition: the position known to be reached and since when (see module doc)."""

    after: float
    _handled: dict[Partition, int] = field(default_factory=dict)
    _since: dict[Partition, tuple[int, float]] = field(default_factory=dict)

    def handled(self, offsets: Mapping[Partition, int]) -> None:
        """The agent handled records up to these offsets (inclusive), per partition."""
        for tp, offset in offsets.items():
            if offset > self._handled.get(tp, -1):
                self._handled[tp] = offset

    def forget(self) -> None:
        """Drop everything (the assignment changed)."""
        self._handled.clear()
        self._since.clear()

    def stalled(
        self, now: float, ends: Mapping[Partition, int], committed: Mapping[Partition, int | None]
    ) -> list[Partition]:
        """Partitions whose log end is past their position while that position has not moved
        for ``after`` seconds; each one is reported once per ``after`` seconds."""
        out: list[Partition] = []
        for tp, end in ends.items():
            position = max(self._handled.get(tp, -1) + 1, committed.get(tp) or 0)
            seen = self._since.get(tp)
            if end <= position or seen is None or seen[0] != position:
                self._since[tp] = (position, now)
                continue
            if now - seen[1] >= self.after:
                out.append(tp)
                self._since[tp] = (position, now)
        return out


async def revive_stalled(app: Any, watch: StallWatch, topics: Sequence[str]) -> list[Any]:
    """One check of the worker's input partitions of ``topics`` (call every few seconds):
    each stalled one is logged with what the consumer holds for it, made active and sought
    back to its committed offset. Returns the partitions revived."""
    if app.rebalancing or app.in_recovery or not app.consumer.flow_active:
        return []
    consumer = app.consumer
    inputs = [tp for tp in consumer.assignment() if tp.topic in topics]
    if not inputs:
        return []
    ends = await consumer.highwaters(*inputs)
    committed = {tp: consumer._committed_offset.get(tp) for tp in inputs}
    found = set(watch.stalled(time.monotonic(), ends, committed))
    stuck = [tp for tp in inputs if tp in found]  # Faust's TopicPartitions, with names
    for tp in stuck:
        STALLS.inc()
        offset = committed.get(tp) or 0
        log.warning(
            "input %s[%d] stalled at offset %d (log end %d) for %.0f s: active=%s paused=%s "
            "buffered=%s read=%s; resuming it and seeking to the committed offset",
            tp.topic,
            tp.partition,
            offset,
            ends[tp],
            watch.after,
            tp in (consumer._active_partitions or ()),
            tp in consumer._paused_partitions,
            tp in consumer._buffered_partitions,
            consumer._read_offset.get(tp),
        )
        consumer.resume_partitions({tp})
        await consumer.seek(tp, offset)
    return stuck

"""Noticing an input partition whose committed offset is stuck, and getting it going again.

Seen on the 2-core development machine and in CI (``tests/streams/test_restart_integration.py``,
a few runs in twenty): after a worker was killed and restarted, some records of
``matters.intake`` never reached the agent although later records of the same partitions
did. Faust then treats the offsets it skipped as a gap, except the first one, so the
partition's committed offset stays at that record for good. The logs point at Faust's
recovery, which resumes the stream partitions and only then seeks them to their committed
offsets: a fetch that lands in between is processed, and the seek then moves the
consumer's positions back under it. Nothing is logged (Faust only warns about a partition
that stopped after ``stream_processing_timeout``, 300 s, and does nothing about it), and the
skipped matters are never processed.

:mod:`streams.delivery` now closes that window and reads skipped records again as soon as
a later record of their partition arrives. This watch stays as the last resort, for a
partition whose committed offset is stuck for any other reason.

:class:`StallWatch` is the pure part: now and then it is given each input partition's log
end and committed offset, and it names the partitions that have records past their
committed offset while that offset has not moved for ``after`` seconds (a worker commits
every second; a batch longer than a second restarts the clocks). The worker
(:func:`revive_stalled`, called from :func:`streams.app.create_app`) logs what the consumer
holds for such a partition, seeks it back to its committed offset and makes sure it
is active: everything from there is delivered again. Records past that
offset that were already processed are applied again, as after a crash (their outputs
carry the same ids, the projections skip offsets already written, see :mod:`streams.app`).

    watch = StallWatch(after=5.0)
    stuck = watch.stalled(now, ends={tp: 94, ...}, committed={tp: 43, ...})
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from streams.log_ends import LogEnds
from streams.metrics import STALLS

log = logging.getLogger(__name__)

#: (topic, partition): Faust's and aiokafka's ``TopicPartition`` are such named tuples
Partition = tuple[str, int]


@dataclass
class StallWatch:
    """Per partition: the committed offset last seen and since when (see module doc)."""

    after: float
    _since: dict[Partition, tuple[int, float]] = field(default_factory=dict)

    def forget(self) -> None:
        """Drop everything (the assignment changed)."""
        self._since.clear()

    def stalled(
        self, now: float, ends: Mapping[Partition, int], committed: Mapping[Partition, int | None]
    ) -> list[Partition]:
        """Partitions whose log end is past their committed offset while that offset has not
        moved for ``after`` seconds; each one is reported once per ``after`` seconds."""
        out: list[Partition] = []
        for tp in [tp for tp in self._since if tp not in ends]:  # not assigned now: forget
            del self._since[tp]
        for tp, end in ends.items():
            position = committed.get(tp) or 0
            seen = self._since.get(tp)
            if end <= position or seen is None or seen[0] != position:
                self._since[tp] = (position, now)
                continue
            if now - seen[1] >= self.after:
                out.append(tp)
                self._since[tp] = (position, now)
        return out


async def revive_stalled(
    app: Any,
    watch: StallWatch,
    topics: Sequence[str],
    busy: Callable[[], bool],
    log_ends: LogEnds[Any],
    held: Callable[[Any], bool] = lambda tp: False,
) -> list[Any]:
    """One check of the worker's input partitions of ``topics`` (call every few seconds):
    each stalled one is logged with what the consumer holds for it, made active and sought
    back to its committed offset. ``busy``: whether a long batch is being handled (it
    commits nothing until it ends, so the clocks start again); ``held``: whether a
    partition is paused on purpose (it is not watched meanwhile); ``log_ends``: how the
    partitions' log ends are asked (when they are not known, this check is skipped).
    Returns the partitions revived."""
    if busy():
        watch.forget()
        return []
    if app.rebalancing or app.in_recovery or not app.consumer.flow_active:
        return []
    consumer = app.consumer
    inputs = [tp for tp in consumer.assignment() if tp.topic in topics and not held(tp)]
    if not inputs:
        return []
    ends = await log_ends.of(inputs)
    if ends is None:
        return []
    committed = {tp: consumer._committed_offset.get(tp) for tp in inputs}
    found = set(watch.stalled(time.monotonic(), ends, committed))
    stuck = [tp for tp in inputs if tp in found]  # Faust's TopicPartitions, with names
    for tp in stuck:
        STALLS.inc()
        offset = committed.get(tp) or 0
        log.warning(
            "input %s[%d]: committed offset %d has not moved for %.0f s (log end %d; "
            "active=%s paused=%s buffered=%s last delivered=%s); seeking back to it",
            tp.topic,
            tp.partition,
            offset,
            watch.after,
            ends[tp],
            tp in (consumer._active_partitions or ()),
            tp in consumer._paused_partitions,
            tp in consumer._buffered_partitions,
            consumer._read_offset.get(tp),
        )
        try:  # e.g. revoked meanwhile: an error out of the timer would stop the worker
            await consumer.seek(tp, offset)  # then resume: its first fetch starts there
            consumer.resume_partitions({tp})
        except Exception:
            log.exception("input %s[%d]: seeking back failed", tp.topic, tp.partition)
    return stuck

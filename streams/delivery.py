"""Every input record reaches the agent before its offset can be committed, across rebalances.

Faust 0.15.3 commits an input partition up to the highest offset its agent acked, and it
counts as acked any offsets that the fetcher *skipped* (``Consumer._add_gap``). Records are
skipped whenever Faust drops fetched records after the consumer's position moved past them:
a fetch returning during a rebalance (dropped on the generation change), records of a
partition that is not active at that moment, a seek racing a fetch. The rebalance test
(``tests/streams/test_rebalance_integration.py``, with the worker's batches and Faust's
seeks, gaps and commits logged) caught three forms of it:

* Faust ends a rebalance's table recovery (``Recovery.on_recovery_completed``) by resuming
  the input partitions and *then* awaiting ``consumer.perform_seek()``, with the flow
  already running. A fetch landing during the seek's broker round trip is processed, the
  seek moves the positions back under it, and the fetcher's delivery loop, still handing
  out that fetch, moves Faust's read offsets forward again;
* a fetch of the partitions' first records after the seek left out two tick records;
  Faust logged the hole as a gap and committed past it, so their warnings never fired;
* ranges of intake were committed unprocessed, and partitions stopped being delivered.

Two guards, installed by :func:`guard_input_delivery`:

:class:`HeldResumes`
    While the app is rebalancing, resuming an input partition waits for the next
    ``perform_seek`` to finish: its first fetch starts at the committed offset with nothing
    in flight.
:class:`NextOffsets`
    Per input partition, the next offset the agent must see (from the seeks and from what
    was delivered). A fetched record beyond it means records in between were skipped: the
    fetch's records of that partition are dropped and the partition is sought back to the
    missing offset, so they are read again. A real hole in the log (a transaction marker, a
    compacted record) comes back as exactly the same skip: the second time it is let
    through, and Faust's gap logic steps over it.

A third gate orders the two input topics after an assignment:

:class:`AfterIntake`
    A ``matters.commands`` partition stays paused until the intake backlog its partition
    had when this worker got it is processed (:class:`streams.catchup.CaughtUp`, which the
    deadline firer waits for too). A worker killed after publishing a batch's department
    tasks but before saving its states leaves matters whose Accept its replacement reads
    again; a department's sign-for of such a matter, fetched before that Accept, met an
    unknown matter and was refused. Cost: after a restart or a rebalance, commands wait for
    the intake backlog (read at full speed meanwhile).

All three are pure bookkeeping; the adapter wraps the consumer's ``resume_partitions``,
``perform_seek``, ``seek`` and ``getmany`` (a partition's expected offset is set again by
the seek that follows each assignment: its committed offset, or its log start when it has
none, :func:`expected_after_seek`)::

    guard = guard_input_delivery(app, {"matters.intake", "matters.commands"}, waits)
    guard.resume_ready()   # after each batch: resume the partitions no longer waiting
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from streams.metrics import REREADS

log = logging.getLogger(__name__)

P = TypeVar("P")

#: seconds to wait for the log start offsets of input partitions without a commit
LOG_START_WAIT = 10.0


@dataclass
class HeldResumes(Generic[P]):
    """Input partitions whose resume waits for the next seek (see module doc)."""

    _held: set[P] = field(default_factory=set)

    def resume_now(
        self, partitions: Iterable[P], rebalancing: bool, is_input: Callable[[P], bool]
    ) -> set[P]:
        """The partitions to resume at once; during a rebalance the input ones are held."""
        asked = set(partitions)
        if not rebalancing:
            return asked
        held = {tp for tp in asked if is_input(tp)}
        self._held |= held
        return asked - held

    def release(self) -> set[P]:
        """The held partitions (now to be resumed); the gate is empty afterwards."""
        out, self._held = self._held, set()
        return out


@dataclass
class AfterIntake(Generic[P]):
    """Partitions whose resume waits until their intake backlog is processed (see module
    doc); ``waits(partition)`` says whether one must wait now."""

    waits: Callable[[P], bool]
    _waiting: set[P] = field(default_factory=set)

    def resume_now(self, partitions: Iterable[P]) -> set[P]:
        """The partitions to resume at once; the others are kept for :meth:`release`."""
        asked = set(partitions)
        later = {tp for tp in asked if self.waits(tp)}
        self._waiting |= later
        return asked - later

    def release(self, owned: Collection[P]) -> set[P]:
        """The kept partitions to resume now: still ``owned`` and no longer waiting (the
        others that are not owned any more are dropped)."""
        if not self._waiting:  # the usual case, after every batch
            return set()
        self._waiting &= set(owned)
        ready = {tp for tp in self._waiting if not self.waits(tp)}
        self._waiting -= ready
        return ready

    def __contains__(self, partition: object) -> bool:
        return partition in self._waiting


@dataclass
class InputGuard(Generic[P]):
    """What :func:`guard_input_delivery` installed, for the worker: ``held(partition)``,
    whether an input partition is kept paused until its intake backlog is processed, and
    ``resume_ready()``, which resumes those now ready (call it after each batch and when a
    partition's backlog becomes known)."""

    held: Callable[[P], bool]
    resume_ready: Callable[[], None]


@dataclass
class NextOffsets(Generic[P]):
    """The next offset each input partition must deliver (see module doc)."""

    _next: dict[P, int] = field(default_factory=dict)
    #: (partition, first missing offset, first offset fetched after it): skips read again
    _retried: set[tuple[P, int, int]] = field(default_factory=set)

    def sought(self, partition: P, offset: int | None) -> None:
        """The consumer was sought to ``offset`` (None: unknown, take what comes)."""
        if offset is None:
            self._next.pop(partition, None)
        else:
            self._next[partition] = offset

    def check(self, partition: P, offset: int) -> int | None:
        """None when the record at ``offset`` may be delivered; else the offset to seek the
        partition back to (the records from there were fetched but never delivered)."""
        expected = self._next.get(partition)
        if expected is not None and offset > expected:
            skip = (partition, expected, offset)
            if skip not in self._retried:  # the same skip twice is a hole in the log
                self._retried.add(skip)
                return expected
        if expected is None or offset >= expected:
            self._next[partition] = offset + 1
        return None


def expected_after_seek(
    read: Mapping[P, int | None], log_starts: Mapping[P, int]
) -> dict[P, int | None]:
    """The next offset each input partition must deliver after the seek of an assignment:
    its committed offset; for a partition without one (a new group or partition), its log
    start, where the consumer begins (``auto_offset_reset="earliest"``). Unknown (None)
    only when the log start could not be asked.

    Taking "whatever comes first" there lost the first records of a partition: seen in
    ``bench.pipeline`` (about one run in fifteen), where a fresh group's worker got
    offsets 1,689..12,411 of a partition and never 0..1,688, and committed them all."""
    return {tp: offset if offset is not None else log_starts.get(tp) for tp, offset in read.items()}


async def _log_starts(consumer: Any, partitions: list[Any]) -> Mapping[Any, int]:
    if not partitions:
        return {}
    try:
        return await asyncio.wait_for(consumer.earliest_offsets(*partitions), LOG_START_WAIT)
    except Exception:  # Kafka away: those partitions take what comes, as before
        log.exception("log start offsets of %d new input partitions unknown", len(partitions))
        return {}


def guard_input_delivery(
    app: Any, inputs: Collection[str], waits: Callable[[Any], bool] = lambda tp: False
) -> InputGuard[Any]:
    """Install the guards on ``app.consumer`` for the topics ``inputs`` (once per consumer;
    see module doc); ``waits(tp)``: whether input partition ``tp`` must stay paused for now
    because its intake backlog is not processed yet."""
    consumer = app.consumer
    gate: HeldResumes[Any] = HeldResumes()
    after_intake: AfterIntake[Any] = AfterIntake(waits)
    offsets: NextOffsets[Any] = NextOffsets()
    resume, perform_seek = consumer.resume_partitions, consumer.perform_seek
    seek, getmany = consumer.seek, consumer.getmany

    def is_input(tp: Any) -> bool:
        return tp.topic in inputs

    def resume_partitions(partitions: Iterable[Any]) -> None:
        now = after_intake.resume_now(gate.resume_now(partitions, app.rebalancing, is_input))
        if now:
            resume(now)

    def resume_ready() -> None:
        if app.rebalancing:  # the partitions may change: the seek after it resumes them
            return
        ready = after_intake.release(consumer.assignment())
        if ready:
            resume(ready)

    async def seek_then_resume() -> None:
        try:
            await perform_seek()
            # Faust's read offset is now the committed one, or None: no commit yet
            read = {tp: consumer._read_offset.get(tp) for tp in consumer.assignment()}
            read = {tp: offset for tp, offset in read.items() if is_input(tp)}
            starts = await _log_starts(consumer, [tp for tp, o in read.items() if o is None])
            for tp, offset in expected_after_seek(read, starts).items():
                offsets.sought(tp, offset)
        finally:
            held = after_intake.resume_now(gate.release() & set(consumer.assignment()))
            if held:
                resume(held)

    async def seek_input(partition: Any, offset: int) -> None:
        await seek(partition, offset)
        if is_input(partition):
            offsets.sought(partition, offset)

    async def contiguous(timeout: float) -> AsyncIterator[tuple[Any, Any]]:  # noqa: ASYNC109
        reread: set[Any] = set()
        async for tp, message in getmany(timeout):
            if tp in reread:
                continue
            back = offsets.check(tp, message.offset) if is_input(tp) else None
            if back is None:
                yield tp, message
                continue
            REREADS.inc()
            log.warning(
                "input %s[%d]: offsets %d..%d were fetched but never delivered; reading them again",
                tp.topic,
                tp.partition,
                back,
                message.offset - 1,
            )
            reread.add(tp)
            try:
                await seek_input(tp, back)
            except Exception:  # e.g. revoked meanwhile: the next record of it asks again
                log.exception("input %s[%d]: seek back to %d failed", tp.topic, tp.partition, back)

    consumer.resume_partitions = resume_partitions
    consumer.perform_seek = seek_then_resume
    consumer.seek = seek_input
    consumer.getmany = contiguous
    return InputGuard(after_intake.__contains__, resume_ready)

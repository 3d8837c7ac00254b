"""Which partitions' deadlines may fire: those whose intake backlog at assignment is processed.

Why: a worker killed after writing a batch's timers to the deadline index (step 3 of
:mod:`streams.runtime`) but before saving its states leaves timers of matters whose Accept
its replacement reads again. Fired at once, such a tick reached the worker before the
replayed Accept (the two topics are fetched independently), met an unknown matter and was
dropped; the tick fired after the Accept re-scheduled the timers carried another time, so
the live projections differed from a rebuild, which applies the first tick after the
Accept (seen once in CI: ``tests/reliability/test_kill_worker.py``). Every matter whose
timers are in the index has its Accept below the intake end the partition had when this
worker got it, so once that much intake is processed the ticks come after their Accepts.

:class:`CaughtUp` is the bookkeeping. The worker records each partition's intake end when
it first owns it (:meth:`CaughtUp.assigned`, from a timer: never inside a rebalance) and
the intake offsets its batches processed (:meth:`CaughtUp.processed`); the deadline firer
fires only for :meth:`CaughtUp.ready` partitions, and the ``matters.commands`` partitions
that are not ready stay paused (:class:`streams.delivery.AfterIntake`: a department's
command for such a matter would meet it unknown too). Cost: after a restart or a
rebalance, warnings and commands wait for the intake backlog (read at full speed meanwhile).

    caught = CaughtUp()
    caught.assigned({0: 120}, {0: 80})      # intake end 120, committed 80
    caught.processed(0, 119)
    caught.ready({0, 1})                    # {0}; 1 is not known yet
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass
class CaughtUp:
    """Per owned partition: the intake offset to reach before its deadlines fire."""

    #: partition -> last intake offset to process first (-1: nothing to wait for)
    _targets: dict[int, int] = field(default_factory=dict)
    #: partition -> highest intake offset processed since the assignment
    _done: dict[int, int] = field(default_factory=dict)

    def unknown(self, owned: Iterable[int]) -> set[int]:
        """The partitions of ``owned`` without a target yet (ask :meth:`assigned`)."""
        return {p for p in owned if p not in self._targets}

    def assigned(self, ends: Mapping[int, int], committed: Mapping[int, int | None]) -> None:
        """Set the targets of newly owned partitions: ``ends`` are their intake log ends
        now, ``committed`` their committed intake offsets (None: none yet)."""
        for partition, end in ends.items():
            start = committed.get(partition)
            caught = end == 0 or (start is not None and start >= end)
            self._targets[partition] = -1 if caught else end - 1

    def processed(self, partition: int, offset: int) -> None:
        """A batch processed the intake record at ``offset`` of ``partition``."""
        if offset > self._done.get(partition, -1):
            self._done[partition] = offset

    def ready(self, owned: Iterable[int]) -> set[int]:
        """The partitions of ``owned`` whose deadlines may fire now."""
        out = set()
        for partition in owned:
            target = self._targets.get(partition)
            if target is not None and self._done.get(partition, -1) >= target:
                out.add(partition)
        return out

    def forget(self) -> None:
        """The assignment changed: every partition waits again."""
        self._targets.clear()
        self._done.clear()

"""Per-event costs of the Faust runtime that the worker removes (measured, not guessed).

A Faust agent that does nothing with its events cost ~250 µs of CPU per event on the
2-core development machine (``take_events`` over 60,000 preloaded records, py-spy):

* ``Consumer._drain_messages`` hands each message to the conductor through
  ``Service.wait_first(callback(message), suspend_flow.wait())``, which creates four tasks
  and an ``asyncio.wait`` per message so that a callback blocked on a full stream buffer can
  be abandoned when a rebalance suspends the flow. In faust-streaming ≥ 0.10 the callback
  never blocks on a full buffer (``put_nowait_enhanced`` pauses the partition instead); it
  can only wait in ``acquire_flow_control`` (flow suspended) or on the conductor's lock
  (subscriptions changing). :func:`fast_drain` awaits the callback directly while neither
  can happen (so it completes without yielding) and keeps the racing path otherwise.
  Measured: ~250 → ~110–150 µs per event.
* The default ``Monitor`` sensor updates per-event statistics the worker never serves (it
  exports Prometheus metrics instead): :func:`quiet_sensors` removes it.
* The cyclic GC: each batch allocates hundreds of thousands of objects that live until the
  batch ends (records, events, outputs). Collections in the middle of a batch find almost
  no garbage (the worker's garbage is freed by reference counting) but scan those objects
  and promote them, so they are scanned again by older collections, and full collections
  come more often. :func:`tune_gc` freezes the start-up heap and makes young collections
  less frequent; :class:`BatchGc` keeps the collector off while a batch is computed, so a
  collection sees only what outlives it.
  Measured with ``gc.callbacks`` over 50,000 matters through one worker: 2.8 s in young
  and middle collections without it (60 and 6 of them), 1.2 s with it (20 and 1), about
  30 µs of CPU per matter. The table itself holds bytes, which the collector does not
  scan (:mod:`streams.states`).
  What outlives a batch (new states in the memos, prefetched records) was still scanned by
  the collections after it, and promoted and scanned again. :class:`BatchGc` freezes it at
  the batch's end instead. Measured with ``gc.callbacks`` over 200,000 matters through one
  worker: 6.5 s in collections and a longest pause of 0.56 s without the freeze; 0.21 s and
  0.06 s with it, at the same peak RSS (1.20 GB). The frozen objects held little cyclic
  garbage: a full collection after 50,000 matters found 159 objects, so reclaiming it once
  an hour (one full collection, ~0.6 s with 450,000 live objects) is plenty.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import faust
from mode.services import WaitResults

log = logging.getLogger(__name__)


def fast_drain(app: faust.App) -> None:
    """Let the consumer deliver a message without four tasks per message (see module doc)."""
    consumer: Any = app.consumer
    original = consumer.wait_first
    flow = app.flow_control
    suspended = consumer.suspend_flow.is_set
    lock = getattr(app.topics, "_tp_to_callback_lock", None)
    busy = lock.locked if isinstance(lock, asyncio.Lock) else (lambda: True)

    async def wait_first(*coros: Any, timeout: float | None = None) -> WaitResults:  # noqa: ASYNC109  # mode's signature
        if (
            len(coros) == 2
            and timeout is None
            and flow.is_active()
            and not suspended()
            and not busy()
            and asyncio.iscoroutine(coros[0])
            and asyncio.iscoroutine(coros[1])
        ):
            callback, race = coros
            race.close()  # the suspend_flow.wait() we do not need to race
            return WaitResults([callback], [await callback], False)
        return await original(*coros, timeout=timeout)

    consumer.wait_first = wait_first


def quiet_sensors(app: faust.App) -> None:
    """Stop the per-event statistics of Faust's default monitor (unused by this worker)."""
    with contextlib.suppress(KeyError):  # already removed
        app.sensors.remove(app.monitor)


class BatchGc:
    """The cyclic collector around batches (see the module doc)::

        collector = BatchGc()
        with collector.batch():
            ...  # one batch; the worker runs one at a time

    Off while the batch runs. At its end, whatever outlives it is frozen (``gc.freeze``):
    later collections do not scan it again, and it is still freed by reference counting
    when dropped. Only cyclic garbage among frozen objects waits: every ``reclaim_seconds``
    the end of a batch unfreezes everything and makes one full collection first.
    """

    def __init__(
        self, reclaim_seconds: float = 3600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.reclaim_seconds = reclaim_seconds
        self._clock = clock
        self._next_reclaim = clock() + reclaim_seconds

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """The collector off for the ``with`` body, and on again afterwards (also when the
        body raises); left alone if it was already off (nested, or managed by a caller)."""
        if not gc.isenabled():
            yield
            return
        gc.disable()
        try:
            yield
        finally:
            now = self._clock()
            if now >= self._next_reclaim:
                self._next_reclaim = now + self.reclaim_seconds
                gc.unfreeze()
                found = gc.collect()
                log.info("reclaimed %d objects of cyclic garbage", found)
            gc.freeze()
            gc.enable()


def tune_gc(young: int = 50_000) -> None:
    """Freeze the start-up heap (modules, city data) and collect young objects less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, old)

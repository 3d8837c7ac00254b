"""Finishing a batch even when the worker stops in the middle of it.

Faust's ``Stream.take_events`` acks every event of a batch as soon as the agent leaves it,
also when the agent leaves because it was cancelled (a worker stopping on SIGTERM), and the
consumer then commits those offsets (read in faust-streaming's ``streams.py``: the acks are
in the ``finally`` around its ``yield``). A batch cut short would so be committed as done:
its matters, ticks and commands lost for good.

    await to_the_end(handle_batch(rt, events), within=30.0)

The batch runs in its own task, shielded from the agent's cancellation; a cancelled caller
waits for it to end (its outputs, projections and state written) before the cancellation
goes on. If it does not end within ``within`` seconds (Kafka or Redis gone), the process
exits at once without committing anything, as a crash would: the batch is then replayed from
the last commit by whoever owns its partitions next.

Stopping as a whole has a deadline too (:func:`worker_class`, ``GRIDHUB_STREAMS_STOP_SECONDS``):
a worker stopped (SIGTERM) while its group was rebalancing once spent minutes in aiokafka's
heartbeat loop ("GroupCoordinatorNotAvailableError", ten times a second) and never exited,
which holds up a restart or a deploy. Past the deadline it exits the same way.

    app = faust.App(..., Worker=worker_class(stop_within=60.0))
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Awaitable, Callable

import faust

log = logging.getLogger(__name__)

#: exit status of a worker that could not finish its batch while stopping (EX_SOFTWARE)
UNFINISHED_EXIT = 70


def _exit_now() -> None:  # pragma: no cover - ends the process
    logging.shutdown()
    os._exit(UNFINISHED_EXIT)


async def to_the_end(
    work: Awaitable[None], within: float, on_timeout: Callable[[], None] = _exit_now
) -> None:
    """Await ``work``; if the caller is cancelled meanwhile, let ``work`` end first (up to
    ``within`` seconds, else ``on_timeout()``, by default an immediate exit), then re-raise
    the cancellation."""
    task = asyncio.ensure_future(work)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not task.done() and loop.time() < deadline:
            try:
                await asyncio.wait({task}, timeout=deadline - loop.time())
            except asyncio.CancelledError:
                continue  # cancelled again while waiting: the batch still comes first
        if not task.done():
            log.critical(
                "a batch did not finish within %.0f s of the worker stopping; "
                "exiting without committing it (it is replayed)",
                within,
            )
            on_timeout()
        raise


def exit_after(
    within: float, what: str, on_timeout: Callable[[], None] = _exit_now
) -> threading.Timer:
    """Call ``on_timeout()`` (by default: exit at once) in ``within`` seconds, from a thread
    of its own (so also when the event loop is stuck), unless the process has ended or
    the returned timer is cancelled; ``what`` is logged then."""

    def expire() -> None:
        log.critical("%s did not end within %.0f s; exiting without committing", what, within)
        on_timeout()

    timer = threading.Timer(within, expire)
    timer.daemon = True
    timer.start()
    return timer


def worker_class(stop_within: float) -> type[faust.Worker]:
    """Faust's worker class with a deadline of ``stop_within`` seconds on stopping (see
    module doc); pass it as the app's ``Worker`` setting."""

    class Worker(faust.Worker):
        async def on_stop(self) -> None:
            exit_after(stop_within, "stopping the worker")
            await super().on_stop()

    return Worker

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
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable

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

"""to_the_end: a batch runs to its end even when the agent is cancelled in the middle."""

from __future__ import annotations

import asyncio
import contextlib

from streams.finish import to_the_end


async def test_a_cancelled_caller_waits_for_the_batch_then_is_cancelled() -> None:
    steps: list[str] = []

    async def batch() -> None:
        steps.append("started")
        await asyncio.sleep(0.2)
        steps.append("finished")

    caller = asyncio.ensure_future(to_the_end(batch(), within=5.0))
    await asyncio.sleep(0.05)
    caller.cancel()
    await asyncio.sleep(0.01)
    caller.cancel()  # a second cancellation while waiting changes nothing
    try:
        await caller
    except asyncio.CancelledError:
        pass
    else:
        raise AssertionError("the cancellation was swallowed")
    assert steps == ["started", "finished"]


async def test_a_batch_that_does_not_end_in_time_calls_on_timeout() -> None:
    timed_out: list[bool] = []
    release = asyncio.Event()

    async def stuck() -> None:
        await release.wait()

    caller = asyncio.ensure_future(to_the_end(stuck(), 0.1, lambda: timed_out.append(True)))
    await asyncio.sleep(0.02)
    caller.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await caller
    assert timed_out == [True]
    release.set()


async def test_without_cancellation_it_is_the_batch_itself() -> None:
    async def fails() -> None:
        raise ValueError("bad batch")

    try:
        await to_the_end(fails(), within=1.0)
    except ValueError as exc:
        assert str(exc) == "bad batch"
    else:
        raise AssertionError("the batch's error was swallowed")

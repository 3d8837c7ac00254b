"""to_the_end: a batch runs to its end even when the agent is cancelled in the middle;
exit_after: a deadline that holds when the event loop is stuck."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

from streams.finish import exit_after, to_the_end


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


def test_exit_after_fires_from_its_own_thread_while_the_caller_is_stuck() -> None:
    fired = threading.Event()
    exit_after(0.05, "a test", on_timeout=fired.set)
    time.sleep(0.3)  # the caller (an event loop, in the worker) does not get control back
    assert fired.is_set()


def test_exit_after_cancelled_in_time_does_nothing() -> None:
    fired = threading.Event()
    exit_after(0.05, "a test", on_timeout=fired.set).cancel()
    time.sleep(0.2)
    assert not fired.is_set()

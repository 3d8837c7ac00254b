"""Reporting a batch that runs far too long (streams/stuck.py): when, and what the report
holds."""

from __future__ import annotations

import asyncio

from streams.stuck import SlowBatchWatch, task_stacks


def test_a_batch_is_reported_once_after_the_delay() -> None:
    watch = SlowBatchWatch(after=10.0)
    assert not watch.due(105.0, None)  # no batch running
    assert not watch.due(109.9, 100.0)
    assert watch.due(110.0, 100.0)
    assert not watch.due(130.0, 100.0)  # the same batch: reported already
    assert not watch.due(131.0, 125.0)
    assert watch.due(135.0, 125.0)  # the next one that runs too long


async def test_the_stacks_show_where_each_task_waits() -> None:
    async def waits_for_acks(gate: asyncio.Event) -> None:
        await gate.wait()

    gate = asyncio.Event()
    task = asyncio.create_task(waits_for_acks(gate), name="the-batch")
    await asyncio.sleep(0)
    try:
        report = task_stacks()
    finally:
        gate.set()
        await task
    lines = report.splitlines()
    start = lines.index("--- task the-batch")
    chain = lines[start + 1 : start + 4]
    assert "in waits_for_acks" in chain[0]  # the task's coroutine, then what it awaits
    assert "in wait" in chain[1] and "locks.py" in chain[1]  # asyncio.Event.wait
    assert chain[2].startswith("  awaiting ")  # the future itself

"""Saying where a batch that runs far too long is stuck, while it is stuck.

A batch normally takes milliseconds to about a second (2,000 records). A few fresh-clone
``make test`` runs saw a worker's *first* batch never end: its outputs were on Kafka (the
wallboard showed the matter), yet nothing after it was processed, and Faust's shutdown
listed its records as never acknowledged. Broker and Redis logs showed nothing. Nothing
in the worker said which await it was in, so this module does.

:class:`SlowBatchWatch` is the pure part: told when the running batch started, it says
once per batch when that batch has run for ``after`` seconds. :func:`where_stuck` is the
report: the stack of every pending asyncio task of the worker (the batch's own among
them) and what the output producer holds (batches per partition not yet sent, requests in
flight, partitions without a known leader).

    watch = SlowBatchWatch(after=10.0)
    if watch.due(time.monotonic(), started):
        log.warning("batch running for 10 s:\\n%s", where_stuck(producer))
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from typing import Any


@dataclass
class SlowBatchWatch:
    """When to report a batch still running after ``after`` seconds (once per batch)."""

    after: float
    _reported: float | None = None

    def due(self, now: float, started: float | None) -> bool:
        """Whether the batch that started at ``started`` (None: none is running) is to be
        reported now."""
        if started is None or now - started < self.after or self._reported == started:
            return False
        self._reported = started
        return True


def await_chain(awaitable: Any) -> list[str]:
    """Where a suspended coroutine waits, outermost first: ``file:line in function`` per
    coroutine down its chain of awaits, then what the innermost awaits (a future, say).
    ``Task.print_stack`` shows the outermost frame only, which says nothing here."""
    out: list[str] = []
    current = awaitable
    for _ in range(60):  # a chain is a few dozen deep at most; never loop forever
        frame = getattr(current, "cr_frame", None) or getattr(current, "gi_frame", None)
        if frame is None:
            frame = getattr(current, "ag_frame", None)
        if frame is None:
            if current is not None:
                out.append(f"  awaiting {current!r}"[:300])
            break
        out.append(f"  {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
        current = (
            getattr(current, "cr_await", None)
            or getattr(current, "gi_yieldfrom", None)
            or getattr(current, "ag_await", None)
        )
    return out


def task_stacks() -> str:
    """Where every pending task of the running loop waits (see :func:`await_chain`)."""
    out = io.StringIO()
    for task in sorted(asyncio.all_tasks(), key=lambda t: t.get_name()):
        if task is asyncio.current_task():
            continue
        out.write(f"--- task {task.get_name()}\n")
        for line in await_chain(task.get_coro()):
            out.write(line + "\n")
    return out.getvalue()


def producer_state(producer: Any) -> str:
    """What an aiokafka producer still holds: unsent batches per partition (and the leader
    it knows for each), requests in flight, partitions awaiting a response, whether a
    metadata update is pending. Reads private fields: a missing one is reported as such."""
    try:
        batches = producer._message_accumulator._batches
        cluster = producer.client.cluster
        unsent = {
            f"{tp.topic}[{tp.partition}]": (len(queue), cluster.leader_for_partition(tp))
            for tp, queue in batches.items()
            if queue
        }
        sender = producer._sender
        return (
            f"unsent batches (count, leader) {unsent}; in flight to nodes "
            f"{sorted(sender._in_flight)}; muted {len(sender._muted_partitions)} partitions; "
            f"metadata update pending {producer.client._md_update_fut is not None}; "
            f"sender task done {sender.sender_task.done() if sender.sender_task else None}"
        )
    except Exception as exc:  # pragma: no cover - aiokafka internals moved
        return f"(producer state unavailable: {exc!r})"


def where_stuck(producer: Any) -> str:
    """The report (see the module doc)."""
    return f"producer: {producer_state(producer)}\n{task_stacks()}"

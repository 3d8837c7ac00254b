"""LogEnds: the worker's timers wait a bounded time for log ends and never ask twice at once
(the worker side of this is tests/reliability/test_kafka_outage.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping

from streams.log_ends import LogEnds


class Lookups:
    """A log-end look-up that answers when told to (``answer``/``fail``), counting calls."""

    def __init__(self) -> None:
        self.asked: list[frozenset[str]] = []
        self.reply: asyncio.Future[Mapping[str, int]] | None = None

    async def __call__(self, partitions: Collection[str]) -> Mapping[str, int]:
        self.asked.append(frozenset(partitions))
        self.reply = asyncio.get_running_loop().create_future()
        return await self.reply

    def answer(self, ends: Mapping[str, int]) -> None:
        assert self.reply is not None
        self.reply.set_result(ends)

    def fail(self, exc: Exception) -> None:
        assert self.reply is not None
        self.reply.set_exception(exc)


async def answered_soon(lookups: Lookups, ends: Mapping[str, int]) -> None:
    await asyncio.sleep(0.01)
    lookups.answer(ends)


async def test_an_answer_within_the_bound_is_returned() -> None:
    lookups = Lookups()
    ends = LogEnds(lookups, within=5.0, what="test")
    answering = asyncio.create_task(answered_soon(lookups, {"a": 7, "b": 9}))
    assert await ends.of(["a", "b"]) == {"a": 7, "b": 9}
    await answering


async def test_a_slow_look_up_gives_none_and_is_waited_for_not_asked_again() -> None:
    lookups = Lookups()
    ends = LogEnds(lookups, within=0.05, what="test")
    assert await ends.of(["a"]) is None  # Kafka silent: the caller goes on
    assert await ends.of(["a"]) is None
    assert lookups.asked == [frozenset({"a"})]  # one call in flight, not two
    lookups.answer({"a": 3})
    assert await ends.of(["a"]) == {"a": 3}
    answering = asyncio.create_task(answered_soon(lookups, {"a": 4}))
    assert await ends.of(["a"]) == {"a": 4}  # done: the next call asks afresh
    assert len(lookups.asked) == 2
    await answering


async def test_a_failed_look_up_gives_none_and_the_next_call_asks_again() -> None:
    lookups = Lookups()
    ends = LogEnds(lookups, within=0.05, what="test")
    assert await ends.of(["a"]) is None
    lookups.fail(TimeoutError("Failed to get offsets by times in 90000 ms"))
    assert await ends.of(["a"]) is None  # the error is logged, not raised
    answering = asyncio.create_task(answered_soon(lookups, {"a": 5}))
    assert await ends.of(["a"]) == {"a": 5}
    assert len(lookups.asked) == 2
    await answering


async def test_an_answer_for_other_partitions_is_not_passed_off_as_this_one() -> None:
    lookups = Lookups()
    ends = LogEnds(lookups, within=0.05, what="test")
    assert await ends.of(["a"]) is None
    lookups.answer({"a": 1})
    assert await ends.of(["a", "b"]) is None  # the earlier call's answer lacks "b"
    answering = asyncio.create_task(answered_soon(lookups, {"a": 1, "b": 2}))
    assert await ends.of(["a", "b"]) == {"a": 1, "b": 2}
    await answering

"""Input partitions' log ends, looked up by the worker's timers without hanging on Kafka.

The stall watch and the assignment tracker ask Faust's consumer for log ends now and then.
While Kafka is away such a call waits for the consumer's request timeout (90 s by default)
and then raises, and an exception out of a Faust timer stops the worker (seen in a
benchmark run and in ``tests/reliability/test_kafka_outage.py``). Each timer therefore asks
through a :class:`LogEnds`: it waits at most ``within`` seconds, and a call still under way
is waited for again on the next tick rather than asked a second time (every asked call
sits in the consumer thread's queue until it is answered or times out).

    ends = LogEnds(lambda tps: consumer.highwaters(*tps), within=5.0, what="stall check")
    found = await ends.of(partitions)   # {tp: end}, or None: not known now, ask next tick
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

P = TypeVar("P")


class LogEnds(Generic[P]):
    """One look-up in flight at a time, waited for at most ``within`` seconds per call."""

    def __init__(
        self,
        lookup: Callable[[Collection[P]], Awaitable[Mapping[P, int]]],
        within: float,
        what: str,
    ) -> None:
        self.lookup, self.within, self.what = lookup, within, what
        self._pending: asyncio.Future[Mapping[P, int]] | None = None
        self._asked: frozenset[P] = frozenset()

    async def of(self, partitions: Collection[P]) -> Mapping[P, int] | None:
        """The log end of each of ``partitions``; None (logged) when Kafka did not answer
        within ``within`` seconds, the look-up failed, or the answer that came is that of
        an earlier call for other partitions: the caller asks again on its next tick."""
        if self._pending is None:
            self._pending = asyncio.ensure_future(self.lookup(partitions))
            self._asked = frozenset(partitions)
        done, _ = await asyncio.wait({self._pending}, timeout=self.within)
        if not done:
            log.warning("%s: log ends not known after %.0f s; waiting", self.what, self.within)
            return None
        pending, self._pending = self._pending, None
        try:
            ends = pending.result()
        except Exception as exc:  # Kafka away, the consumer stopping, a revoked partition
            log.warning("%s: log ends unknown (%r)", self.what, exc)
            return None
        if not set(partitions) <= self._asked:
            return None
        return ends


def highwaters_of(consumer: Callable[[], Any]) -> Callable[[Collection[Any]], Awaitable[Any]]:
    """The log-end look-up of the Faust consumer ``consumer()`` returns, for :class:`LogEnds`."""

    async def lookup(partitions: Collection[Any]) -> Any:
        return await consumer().highwaters(*partitions)

    return lookup

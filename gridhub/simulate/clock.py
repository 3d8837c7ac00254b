"""Accelerated simulated time: ``accel`` simulated seconds pass per real second.

clock = SimClock(start=datetime(2021, 7, 1, tzinfo=CST), accel=86400 / 60)  # 1 day/min
clock.now()                       # the simulated instant
await clock.sleep_until(when)     # returns at once when ``when`` has passed
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta


class SimClock:
    """Maps real (monotonic) time to simulated time from ``start`` at ``accel``×."""

    def __init__(self, start: datetime, accel: float) -> None:
        if accel <= 0:
            raise ValueError("accel must be positive")
        if start.tzinfo is None:
            raise ValueError("start needs a time zone")
        self.start = start
        self.accel = accel
        self._real0 = time.monotonic()

    def now(self) -> datetime:
        """The current simulated instant."""
        return self.start + timedelta(seconds=(time.monotonic() - self._real0) * self.accel)

    def real_seconds_until(self, when: datetime) -> float:
        """Real seconds until the simulated instant ``when`` (negative when it has passed)."""
        return (when - self.start).total_seconds() / self.accel - (time.monotonic() - self._real0)

    async def sleep_until(self, when: datetime) -> None:
        """Sleep until the simulated instant ``when``."""
        wait = self.real_seconds_until(when)
        if wait > 0:
            await asyncio.sleep(wait)

    def elapsed_real(self) -> float:
        """Real seconds since the clock started."""
        return time.monotonic() - self._real0

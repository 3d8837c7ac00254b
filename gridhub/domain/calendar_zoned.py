"""Day-by-day working-time arithmetic through ``zoneinfo``: the slow general path.

:class:`gridhub.domain.calendar.WorkCalendar` answers in closed form where Asia/Shanghai is
a fixed UTC+8 (every instant from 1992 on); before that the zone had summer time and local
days were not 24 h long, so these loops (walking local days, asking ``is_working_day`` for
each) give the answer. They are also the plain statement of the rules the fast path keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_DAYS_SCANNED = 3660  # a guard: no SLA spans ten years

IsWorking = Callable[[date], bool]


def at_local(day: date, clock: time) -> datetime:
    """The UTC instant of ``clock`` on the Shanghai date ``day``."""
    return datetime.combine(day, clock, tzinfo=SHANGHAI).astimezone(UTC)


def next_working_day(working: IsWorking, day: date) -> date:
    """The first working day strictly after ``day``."""
    for _ in range(MAX_DAYS_SCANNED):
        day += timedelta(days=1)
        if working(day):
            return day
    raise RuntimeError("no working day within ten years")  # pragma: no cover


def add_working_days(working: IsWorking, start: datetime, n: int) -> datetime:
    """See :meth:`gridhub.domain.calendar.WorkCalendar.add_working_days`."""
    if n <= 0:
        return start.astimezone(UTC)
    local = start.astimezone(SHANGHAI)
    day = local.date()
    if working(day):
        for _ in range(n):
            day = next_working_day(working, day)
        return at_local(day, local.timetz().replace(tzinfo=None))
    day = next_working_day(working, day)
    for _ in range(n - 1):
        day = next_working_day(working, day)
    return at_local(day + timedelta(days=1), time(0))


def working_days_between(working: IsWorking, start: datetime, end: datetime) -> int:
    """See :meth:`gridhub.domain.calendar.WorkCalendar.working_days_between`."""
    a, b = start.astimezone(SHANGHAI).date(), end.astimezone(SHANGHAI).date()
    sign = 1
    if b < a:
        a, b, sign = b, a, -1
    count = 0
    day = a
    while day < b:
        day += timedelta(days=1)
        count += working(day)
    return sign * count


def working_seconds_between(working: IsWorking, start: datetime, end: datetime) -> float:
    """See :meth:`gridhub.domain.calendar.WorkCalendar.working_seconds_between`."""
    if end <= start:
        return 0.0
    total = 0.0
    cursor = start.astimezone(SHANGHAI)
    end_local = end.astimezone(SHANGHAI)
    while cursor < end_local:
        day_end = at_local(cursor.date() + timedelta(days=1), time(0)).astimezone(SHANGHAI)
        stop = min(day_end, end_local)
        if working(cursor.date()):
            total += (stop - cursor).total_seconds()
        cursor = stop
    return total


def add_working_seconds(working: IsWorking, start: datetime, seconds: float) -> datetime:
    """See :meth:`gridhub.domain.calendar.WorkCalendar.add_working_seconds`."""
    cursor = start.astimezone(SHANGHAI)
    remaining = max(0.0, seconds)
    for _ in range(MAX_DAYS_SCANNED):
        if remaining <= 0:
            break
        day_end = at_local(cursor.date() + timedelta(days=1), time(0)).astimezone(SHANGHAI)
        if working(cursor.date()):
            available = (day_end - cursor).total_seconds()
            if remaining <= available:
                return (cursor + timedelta(seconds=remaining)).astimezone(UTC)
            remaining -= available
        cursor = day_end
    return cursor.astimezone(UTC)

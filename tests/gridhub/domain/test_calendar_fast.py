"""The table-driven calendar agrees with a plain day-by-day reference, exactly.

The reference below is the calendar as first written: ask each local day whether it works
(chinese-calendar, an operator override, or plain weekends) and walk day by day through
``zoneinfo``. Random instants cover 2024–2028: package years, 2027 and 2028 (no package
data: the weekend fallback, which must be recorded the same way) and, for the second
calendar, an operator override of 2027.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar
from hypothesis import given, settings
from hypothesis import strategies as st

from gridhub.domain.calendar import SHANGHAI, WorkCalendar, YearOverride, local_date

OVERRIDE_2027 = YearOverride(
    2027,
    holidays=frozenset(
        {date(2027, 1, 1), *(date(2027, 2, d) for d in range(8, 13)), date(2027, 10, 4)}
    ),
    workdays=frozenset({date(2027, 2, 7), date(2027, 10, 9)}),
)


_PACKAGE: dict[date, bool | None] = {}  # the package's answers (its is_workday is slow)


class Reference:
    """Day-by-day arithmetic over a plain per-day rule; records the years it falls back on."""

    def __init__(self, overrides: tuple[YearOverride, ...] = ()) -> None:
        self.overrides = {o.year: o for o in overrides}
        self.fallback_years: set[int] = set()

    def is_working_day(self, day: date) -> bool:
        o = self.overrides.get(day.year)
        if o is not None:
            return day in o.workdays or (day.weekday() < 5 and day not in o.holidays)
        if day not in _PACKAGE:
            try:
                _PACKAGE[day] = bool(chinese_calendar.is_workday(day))
            except NotImplementedError:
                _PACKAGE[day] = None
        working = _PACKAGE[day]
        if working is None:
            self.fallback_years.add(day.year)
            return day.weekday() < 5
        return working

    def next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: datetime, n: int) -> datetime:
        if n <= 0:
            return start.astimezone(UTC)
        local = start.astimezone(SHANGHAI)
        day = local.date()
        if self.is_working_day(day):
            for _ in range(n):
                day = self.next_working_day(day)
            return _at(day, local.time())
        for _ in range(n):
            day = self.next_working_day(day)
        return _at(day + timedelta(days=1), time(0))

    def working_days_between(self, start: datetime, end: datetime) -> int:
        a, b = local_day(start), local_day(end)
        sign = 1 if a <= b else -1
        a, b = min(a, b), max(a, b)
        return sign * sum(
            self.is_working_day(a + timedelta(days=i)) for i in range(1, (b - a).days + 1)
        )

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        total, cursor = 0.0, start.astimezone(SHANGHAI)
        end_local = end.astimezone(SHANGHAI)
        while cursor < end_local:
            stop = min(_at(cursor.date() + timedelta(days=1), time(0)), end_local)
            if self.is_working_day(cursor.date()):
                total += (stop - cursor).total_seconds()
            cursor = stop.astimezone(SHANGHAI)
        return total

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        cursor, remaining = start.astimezone(SHANGHAI), max(0.0, seconds)
        while remaining > 0:
            day_end = _at(cursor.date() + timedelta(days=1), time(0))
            if self.is_working_day(cursor.date()):
                available = (day_end - cursor).total_seconds()
                if remaining <= available:
                    return (cursor + timedelta(seconds=remaining)).astimezone(UTC)
                remaining -= available
            cursor = day_end.astimezone(SHANGHAI)
        return cursor.astimezone(UTC)


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=SHANGHAI).astimezone(UTC)


def local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def _near_midnight(day: date, offset_us: int) -> datetime:
    return _at(day, time(0)) + timedelta(microseconds=offset_us)


_any = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 20))
_edge = st.builds(
    _near_midnight,
    st.dates(min_value=date(2024, 1, 2), max_value=date(2028, 12, 20)),
    st.sampled_from([0, 1, -1, 3_600_000_000, -86_399_999_999, 500_000]),
)
instants = st.one_of(_any.map(lambda d: d.replace(tzinfo=UTC)), _edge)
zones = st.sampled_from([UTC, SHANGHAI])
overrides = st.sampled_from([(), (OVERRIDE_2027,)])
FAST = settings(max_examples=200, deadline=None)


def _pair(extra: tuple[YearOverride, ...]) -> tuple[WorkCalendar, Reference]:
    return WorkCalendar(extra), Reference(extra)


def _same(fast: WorkCalendar, ref: Reference, call: Callable[[object], object]) -> None:
    assert call(fast) == call(ref)
    assert fast.fallback_years == ref.fallback_years


@FAST
@given(instants, zones, st.integers(0, 30), overrides)
def test_add_working_days(start: datetime, zone: object, n: int, extra: tuple) -> None:
    fast, ref = _pair(extra)
    start = start.astimezone(zone)  # type: ignore[arg-type]
    _same(fast, ref, lambda c: c.add_working_days(start, n))  # type: ignore[attr-defined]
    if n:
        assert fast.add_working_days(start, n).tzinfo is UTC


@FAST
@given(instants, instants, overrides)
def test_working_days_between(a: datetime, b: datetime, extra: tuple) -> None:
    fast, ref = _pair(extra)
    _same(fast, ref, lambda c: c.working_days_between(a, b))  # type: ignore[attr-defined]


@FAST
@given(instants, st.integers(0, 40 * 86_400_000_000), overrides)
def test_working_seconds_between(start: datetime, span_us: int, extra: tuple) -> None:
    fast, ref = _pair(extra)
    end = start + timedelta(microseconds=span_us)
    got = fast.working_seconds_between(start, end)
    assert got == ref.working_seconds_between(start, end)
    assert fast.fallback_years == ref.fallback_years
    assert fast.working_seconds_between(end, start) == 0.0 or span_us == 0


@FAST
@given(instants, st.floats(-10.0, 30 * 86400.0, allow_nan=False), overrides)
def test_add_working_seconds(start: datetime, seconds: float, extra: tuple) -> None:
    fast, ref = _pair(extra)
    _same(fast, ref, lambda c: c.add_working_seconds(start, seconds))  # type: ignore[attr-defined]


@FAST
@given(instants, st.integers(1, 4), st.floats(0.0, 1.0), overrides)
def test_yellow_share_round_trip(start: datetime, days: int, share: float, extra: tuple) -> None:
    """The warning-time composition: a share of the working time up to a deadline."""
    fast, ref = _pair(extra)

    def yellow(c: WorkCalendar | Reference) -> datetime:
        due = c.add_working_days(start, days)
        return c.add_working_seconds(start, c.working_seconds_between(start, due) * share)

    _same(fast, ref, yellow)  # type: ignore[arg-type]


@FAST
@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 30)), overrides)
def test_days(day: date, extra: tuple) -> None:
    fast, ref = _pair(extra)
    _same(fast, ref, lambda c: (c.is_working_day(day), c.next_working_day(day)))  # type: ignore[attr-defined]


@FAST
@given(instants, zones)
def test_local_date(moment: datetime, zone: object) -> None:
    assert local_date(moment.astimezone(zone)) == local_day(moment)  # type: ignore[arg-type]


def test_before_1992_takes_the_zoned_path() -> None:
    """Shanghai kept summer time until 1991: local days then were 23 or 25 hours long."""
    fast, ref = _pair(())
    start = datetime(1991, 4, 13, 12, tzinfo=UTC)  # the day before summer time began
    end = start + timedelta(days=3)
    assert fast.working_seconds_between(start, end) == ref.working_seconds_between(start, end)
    assert fast.add_working_days(start, 2) == ref.add_working_days(start, 2)
    assert fast.add_working_seconds(start, 90_000) == ref.add_working_seconds(start, 90_000)
    assert fast.working_days_between(start, end) == ref.working_days_between(start, end)
    assert local_date(start) == local_day(start)

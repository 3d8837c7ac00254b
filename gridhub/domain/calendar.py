"""Working days on the Chinese statutory-holiday calendar, with make-up working days (调休).

    cal = WorkCalendar()                                   # chinese-calendar data only
    cal = WorkCalendar([parse_holiday_file(text_2027)])    # plus an operator's year file
    due = cal.add_working_days(start_utc, 3)
    if cal.fallback_years: ...                             # raise metric, board warning, log

Where a year's data comes from, in order: an operator :class:`YearOverride` for that year
(it replaces the package's data for that year), the ``chinese-calendar`` package (2004–2026
in 1.11.0), or else plain weekends. Every year that falls back to plain weekends is recorded
in :attr:`WorkCalendar.fallback_years` the first time it is consulted, so the adapters can
announce it loudly (metric, board warning, log line): the fallback is never silent.

Day boundaries are those of Asia/Shanghai. Datetimes go in and come out tz-aware in UTC.
Nothing here reads files: the caller reads a holiday file and passes its text to
:func:`parse_holiday_file`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
YearSource = Literal["override", "package", "fallback"]
_MAX_DAYS_SCANNED = 3660  # a guard: no SLA spans ten years


@dataclass(frozen=True)
class YearOverride:
    """An operator-supplied year: its public holidays and its make-up working days (调休).

    Days not listed follow the weekend rule (Mon–Fri work, Sat–Sun rest).
    """

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]


def parse_holiday_file(text: str) -> YearOverride:
    """Parse an operator holiday file; raise ``ValueError`` with the reason when it is bad.

    Format (JSON)::

        {"year": 2027,
         "holidays": ["2027-01-01", "2027-02-06", ...],
         "workdays": ["2027-02-14", ...]}

    Every date must lie in ``year``, and no date may be both a holiday and a workday.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"holiday file is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("holiday file must be a JSON object with year, holidays, workdays")
    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 9999:
        raise ValueError("holiday file: 'year' must be an integer year such as 2027")
    unknown = set(data) - {"year", "holidays", "workdays"}
    if unknown:
        raise ValueError(f"holiday file: unknown key {sorted(unknown)[0]!r}")
    holidays = _dates(data.get("holidays", []), "holidays", year)
    workdays = _dates(data.get("workdays", []), "workdays", year)
    both = holidays & workdays
    if both:
        raise ValueError(f"holiday file: {min(both)} is listed as both holiday and workday")
    return YearOverride(year, holidays, workdays)


def _dates(items: object, key: str, year: int) -> frozenset[date]:
    if not isinstance(items, list):
        raise ValueError(f"holiday file: {key!r} must be a list of YYYY-MM-DD strings")
    out: set[date] = set()
    for item in items:
        try:
            day = date.fromisoformat(item) if isinstance(item, str) else None
        except ValueError:
            day = None
        if day is None:
            raise ValueError(f"holiday file: {key}: {item!r} is not a YYYY-MM-DD date")
        if day.year != year:
            raise ValueError(f"holiday file: {key}: {item} is not in {year}")
        out.add(day)
    return frozenset(out)


class WorkCalendar:
    """Working-day arithmetic. Pure apart from remembering which years fell back to weekends.

    Build once per process with the operator overrides that exist; share it.
    """

    def __init__(self, overrides: Iterable[YearOverride] = ()) -> None:
        self._overrides = {o.year: o for o in overrides}
        self._sources: dict[int, YearSource] = {}
        self._days: dict[date, bool] = {}
        self.fallback_years: set[int] = set()
        """Years that had neither package data nor an override (plain weekends were used)."""
        self._announced: set[int] = set()

    # --- which data a year uses ---------------------------------------------------------

    def year_source(self, year: int) -> YearSource:
        """Where ``year``'s data comes from; records a fallback year (see ``fallback_years``)."""
        source = self._sources.get(year)
        if source is None:
            if year in self._overrides:
                source = "override"
            else:
                try:
                    chinese_calendar.is_workday(date(year, 6, 1))
                    source = "package"
                except NotImplementedError:
                    source = "fallback"
                    self.fallback_years.add(year)
            self._sources[year] = source
        return source

    def new_fallback_years(self) -> set[int]:
        """Fallback years not returned by an earlier call: announce each one once."""
        new = self.fallback_years - self._announced
        self._announced |= new
        return new

    # --- days --------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` (a local Shanghai date) is a working day, 调休 included."""
        if isinstance(day, datetime):
            day = local_date(day)
        known = self._days.get(day)
        if known is not None:
            return known
        source = self.year_source(day.year)
        if source == "override":
            o = self._overrides[day.year]
            working = day in o.workdays or (day.weekday() < 5 and day not in o.holidays)
        elif source == "package":
            working = bool(chinese_calendar.is_workday(day))
        else:
            working = day.weekday() < 5
        self._days[day] = working
        return working

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        for _ in range(_MAX_DAYS_SCANNED):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise RuntimeError("no working day within ten years")  # pragma: no cover

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """The deadline ``n`` working days after ``start`` (tz-aware; returned in UTC).

        * ``start`` on a working day: the same local time of day on the n-th working day after
          it (Fri 15:00 + 1 → Mon 15:00; across a holiday, the holiday is skipped).
        * ``start`` on a non-working day: the clock starts with the next working day, which
          counts as day 1; the deadline is the end (24:00 local) of the n-th working day.
          (Sat 10:00 + 1 → Tue 00:00 local, i.e. the end of Monday.)
        * ``n <= 0`` returns ``start`` unchanged.
        """
        if n <= 0:
            return start.astimezone(UTC)
        local = start.astimezone(SHANGHAI)
        day = local.date()
        if self.is_working_day(day):
            for _ in range(n):
                day = self.next_working_day(day)
            return _at_local(day, local.timetz().replace(tzinfo=None))
        day = self.next_working_day(day)
        for _ in range(n - 1):
            day = self.next_working_day(day)
        return _at_local(day + timedelta(days=1), time(0))

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days with a local date after ``start``'s and up to ``end``'s (inclusive).

        Monday → Friday of a plain week is 4; negative when ``end`` is before ``start``.
        """
        a, b = local_date(start), local_date(end)
        sign = 1
        if b < a:
            a, b, sign = b, a, -1
        count = 0
        day = a
        while day < b:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return sign * count

    # --- working time (for "x % of a working-day deadline has elapsed") ----------------

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        """Seconds between ``start`` and ``end`` that fall on working days (24 h each)."""
        if end <= start:
            return 0.0
        total = 0.0
        cursor = start.astimezone(SHANGHAI)
        end_local = end.astimezone(SHANGHAI)
        while cursor < end_local:
            day_end = _at_local(cursor.date() + timedelta(days=1), time(0)).astimezone(SHANGHAI)
            stop = min(day_end, end_local)
            if self.is_working_day(cursor.date()):
                total += (stop - cursor).total_seconds()
            cursor = stop
        return total

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant when ``seconds`` of working-day time have passed since ``start``."""
        cursor = start.astimezone(SHANGHAI)
        remaining = max(0.0, seconds)
        for _ in range(_MAX_DAYS_SCANNED):
            if remaining <= 0:
                break
            day_end = _at_local(cursor.date() + timedelta(days=1), time(0)).astimezone(SHANGHAI)
            if self.is_working_day(cursor.date()):
                available = (day_end - cursor).total_seconds()
                if remaining <= available:
                    return (cursor + timedelta(seconds=remaining)).astimezone(UTC)
                remaining -= available
            cursor = day_end
        return cursor.astimezone(UTC)


def local_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar date of a tz-aware instant."""
    return moment.astimezone(SHANGHAI).date()


def _at_local(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=SHANGHAI).astimezone(UTC)

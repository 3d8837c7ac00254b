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

Speed (the stream worker asks for several deadlines and warning times per matter): each year
consulted becomes a table (a flag per day, prefix sums of working days, the working days in
order), so counting and stepping over working days is a lookup or a bisect instead of a
day-by-day loop, and instants are handled as integer microseconds at UTC+8 (Shanghai's fixed
offset since 1992; earlier instants take the day-by-day path of
:mod:`gridhub.domain.calendar_zoned`). Results are identical to that path, to the
microsecond and the float (``tests/gridhub/domain/test_calendar_fast.py``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import chinese_calendar

from gridhub.domain import calendar_zoned as zoned
from gridhub.domain.calendar_zoned import MAX_DAYS_SCANNED, SHANGHAI

__all__ = ["SHANGHAI", "WorkCalendar", "YearOverride", "local_date", "parse_holiday_file"]

YearSource = Literal["override", "package", "fallback"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.date().toordinal()
_US = timedelta(microseconds=1)
_DAY = 86_400_000_000  # µs
_OFFSET = 8 * 3_600_000_000  # Asia/Shanghai: UTC+8, no summer time since 1991-09-15
_FIXED_FROM = (datetime(1992, 1, 1, tzinfo=UTC) - _EPOCH) // _US + _OFFSET


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


@dataclass(frozen=True, slots=True)
class _Year:
    """One year's working days: ``cum[i]`` = working days among its first ``i`` days,
    ``work`` = the ordinals of its working days in order, days ``[first, end)``."""

    first: int
    end: int
    cum: list[int]
    work: list[int]


@functools.cache
def _package_covers(year: int) -> bool:
    """Whether the chinese-calendar package has data for ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def _days_of(year: int) -> list[date]:
    first = date(year, 1, 1).toordinal()
    return [date.fromordinal(o) for o in range(first, date(year + 1, 1, 1).toordinal())]


@functools.cache
def _package_flags(year: int) -> tuple[bool, ...]:
    """Working-day flags of a package year (the package's data never changes in a process;
    its ``is_workday`` costs ~50 µs a call, so each year is asked once per process)."""
    return tuple(bool(chinese_calendar.is_workday(day)) for day in _days_of(year))


def _local_us(moment: datetime) -> int | None:
    """Microseconds since 1970-01-01 00:00 Shanghai wall time, when the offset is fixed."""
    try:
        local = (moment - _EPOCH) // _US + _OFFSET
    except TypeError:  # naive: leave its interpretation to astimezone
        return None
    return local if local >= _FIXED_FROM else None


def _instant(utc_us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=utc_us)


def _midnight(ordinal: int) -> datetime:
    """The UTC instant of 00:00 Shanghai time on the day ``ordinal`` (fixed-offset era)."""
    return _instant((ordinal - _EPOCH_ORDINAL) * _DAY - _OFFSET)


class WorkCalendar:
    """Working-day arithmetic. Pure apart from remembering which years fell back to weekends
    (and caching each year's table).

    Build once per process with the operator overrides that exist; share it.
    """

    def __init__(self, overrides: Iterable[YearOverride] = ()) -> None:
        self._overrides = {o.year: o for o in overrides}
        self._sources: dict[int, YearSource] = {}
        self._years: dict[int, _Year] = {}
        self._flags: dict[int, bool] = {}  # ordinal -> working, for every tabled year
        self._last: _Year | None = None
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
                source = "package" if _package_covers(year) else "fallback"
                if source == "fallback":
                    self.fallback_years.add(year)
            self._sources[year] = source
        return source

    def new_fallback_years(self) -> set[int]:
        """Fallback years not returned by an earlier call: announce each one once."""
        new = self.fallback_years - self._announced
        self._announced |= new
        return new

    # --- year tables --------------------------------------------------------------------

    def _flags_of(self, year: int) -> tuple[bool, ...]:
        source = self.year_source(year)
        if source == "package":
            return _package_flags(year)
        days = _days_of(year)
        if source == "fallback":
            return tuple(day.weekday() < 5 for day in days)
        o = self._overrides[year]
        return tuple(d in o.workdays or (d.weekday() < 5 and d not in o.holidays) for d in days)

    def _year(self, year: int) -> _Year:
        table = self._years.get(year)
        if table is None:
            flags = self._flags_of(year)
            first = date(year, 1, 1).toordinal()
            end = first + len(flags)
            cum, work = [0], []
            for ordinal, working in zip(range(first, end), flags, strict=True):
                self._flags[ordinal] = working
                if working:
                    work.append(ordinal)
                cum.append(len(work))
            table = self._years[year] = _Year(first, end, cum, work)
        return table

    def _year_of(self, ordinal: int) -> _Year:
        last = self._last
        if last is None or not last.first <= ordinal < last.end:
            last = self._last = self._year(date.fromordinal(ordinal).year)
        return last

    def _working(self, ordinal: int) -> bool:
        found = self._flags.get(ordinal)
        if found is None:
            self._year_of(ordinal)
            found = self._flags[ordinal]
        return found

    def _count(self, first: int, last: int) -> int:
        """Working days with an ordinal in ``[first, last]``."""
        total = 0
        while first <= last:
            t = self._year_of(first)
            stop = min(last + 1, t.end)
            total += t.cum[stop - t.first] - t.cum[first - t.first]
            first = t.end
        return total

    def _nth_after(self, ordinal: int, n: int) -> int:
        """The ordinal of the ``n``-th (n ≥ 1) working day strictly after ``ordinal``."""
        day = ordinal + 1
        for _ in range(n + MAX_DAYS_SCANNED // 365 + 1):
            t = self._year_of(day)
            seen = t.cum[day - t.first]
            if seen + n - 1 < len(t.work):
                return t.work[seen + n - 1]
            n -= len(t.work) - seen
            day = t.end
        raise RuntimeError("no working day within ten years")  # pragma: no cover

    def _working_from(self, ordinal: int, limit: int) -> Iterator[int]:
        """Working days with an ordinal in ``[ordinal, limit)``, in order."""
        while ordinal < limit:
            t = self._year_of(ordinal)
            work = t.work
            for k in range(t.cum[ordinal - t.first], len(work)):
                if work[k] >= limit:
                    return
                yield work[k]
            ordinal = t.end

    # --- days --------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` (a local Shanghai date) is a working day, 调休 included."""
        if isinstance(day, datetime):
            day = local_date(day)
        return self._working(day.toordinal())

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return date.fromordinal(self._nth_after(day.toordinal(), 1))

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
        local = _local_us(start)
        if local is None:
            return zoned.add_working_days(self.is_working_day, start, n)
        day = local // _DAY + _EPOCH_ORDINAL
        working = self._working(day)
        target = self._nth_after(day, n)
        if working:
            return _instant(local - _OFFSET + (target - day) * _DAY)
        return _midnight(target + 1)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days with a local date after ``start``'s and up to ``end``'s (inclusive).

        Monday → Friday of a plain week is 4; negative when ``end`` is before ``start``.
        """
        a, b = _local_us(start), _local_us(end)
        if a is None or b is None:
            return zoned.working_days_between(self.is_working_day, start, end)
        a, b = a // _DAY + _EPOCH_ORDINAL, b // _DAY + _EPOCH_ORDINAL
        if b < a:
            return -self._count(b + 1, a)
        return self._count(a + 1, b)

    # --- working time (for "x % of a working-day deadline has elapsed") ----------------

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        """Seconds between ``start`` and ``end`` that fall on working days (24 h each)."""
        if end <= start:
            return 0.0
        a, b = _local_us(start), _local_us(end)
        if a is None or b is None:
            return zoned.working_seconds_between(self.is_working_day, start, end)
        first, last = a // _DAY, b // _DAY
        if first == last:
            return (b - a) / 1_000_000 if self._working(first + _EPOCH_ORDINAL) else 0.0
        # Summed day by day in the order of the plain loop, so the float is the same.
        total = 0.0
        if self._working(first + _EPOCH_ORDINAL):
            total += ((first + 1) * _DAY - a) / 1_000_000
        for _ in range(self._count(first + 1 + _EPOCH_ORDINAL, last - 1 + _EPOCH_ORDINAL)):
            total += 86400.0
        if b % _DAY and self._working(last + _EPOCH_ORDINAL):
            total += (b - last * _DAY) / 1_000_000
        return total

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant when ``seconds`` of working-day time have passed since ``start``."""
        local = _local_us(start)
        if local is None:
            return zoned.add_working_seconds(self.is_working_day, start, seconds)
        remaining = max(0.0, seconds)
        if remaining <= 0:
            return start.astimezone(UTC)
        day = local // _DAY + _EPOCH_ORDINAL
        limit = day + MAX_DAYS_SCANNED
        if self._working(day):
            available = (_DAY - local % _DAY) / 1_000_000
            if remaining <= available:
                return start.astimezone(UTC) + timedelta(seconds=remaining)
            remaining -= available
        for working in self._working_from(day + 1, limit):
            if remaining <= 86400.0:
                return _midnight(working) + timedelta(seconds=remaining)
            remaining -= 86400.0
        return _midnight(limit)


def local_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar date of a tz-aware instant."""
    local = _local_us(moment)
    if local is None:
        return moment.astimezone(SHANGHAI).date()
    return date.fromordinal(local // _DAY + _EPOCH_ORDINAL)

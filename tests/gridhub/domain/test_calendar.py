"""Working days on the statutory calendar: 调休, non-working starts, 2027 fallback, overrides."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from gridhub.domain.calendar import WorkCalendar, YearOverride, local_date, parse_holiday_file

from .support import local

# 2027 New Year + a made-up Spring Festival week with one make-up Sunday.
FILE_2027 = json.dumps(
    {
        "year": 2027,
        "holidays": [
            "2027-01-01",
            "2027-02-08",
            "2027-02-09",
            "2027-02-10",
            "2027-02-11",
            "2027-02-12",
        ],
        "workdays": ["2027-02-07"],
    }
)


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar()


def test_spring_festival_2026_holidays_and_make_up_days(cal: WorkCalendar) -> None:
    for day in range(15, 24):
        assert not cal.is_working_day(date(2026, 2, day)), day
    assert cal.is_working_day(date(2026, 2, 14))  # Saturday, make-up working day
    assert cal.is_working_day(date(2026, 2, 28))  # Saturday, make-up working day
    assert cal.is_working_day(date(2026, 2, 24))
    assert not cal.is_working_day(date(2026, 3, 1))  # ordinary Sunday


def test_national_day_2025_holidays_and_make_up_days(cal: WorkCalendar) -> None:
    for day in range(1, 9):
        assert not cal.is_working_day(date(2025, 10, day)), day
    assert cal.is_working_day(date(2025, 9, 28))  # Sunday, make-up
    assert cal.is_working_day(date(2025, 10, 11))  # Saturday, make-up
    assert cal.is_working_day(date(2025, 10, 9))
    assert not cal.is_working_day(date(2025, 10, 12))


def test_add_working_days_lands_on_make_up_saturday(cal: WorkCalendar) -> None:
    # Friday 13 Feb 2026 10:00 + 1 working day = the make-up Saturday 14 Feb 10:00.
    assert cal.add_working_days(local(2026, 2, 13, 10), 1) == local(2026, 2, 14, 10)
    # From the make-up Saturday, the holiday week is skipped: Tue 24 Feb.
    assert cal.add_working_days(local(2026, 2, 14, 10), 1) == local(2026, 2, 24, 10)
    assert cal.add_working_days(local(2026, 2, 13, 10), 3) == local(2026, 2, 25, 10)


def test_add_working_days_across_national_day_2025(cal: WorkCalendar) -> None:
    assert cal.add_working_days(local(2025, 9, 30, 15), 1) == local(2025, 10, 9, 15)
    assert cal.add_working_days(local(2025, 9, 30, 15), 3) == local(2025, 10, 11, 15)
    assert cal.add_working_days(local(2025, 9, 26, 9), 1) == local(2025, 9, 28, 9)


def test_start_on_non_working_day_counts_from_next_working_day(cal: WorkCalendar) -> None:
    # Saturday 27 Sep 2025 (a rest day); the next working day is the make-up Sunday 28 Sep.
    assert cal.add_working_days(local(2025, 9, 27, 10), 1) == local(2025, 9, 29, 0)
    # Holiday 3 Oct 2025 + 1: day 1 is Thu 9 Oct, due at its end.
    assert cal.add_working_days(local(2025, 10, 3, 22), 1) == local(2025, 10, 10, 0)
    # Ordinary weekend: Saturday + 2 → end of Tuesday.
    assert cal.add_working_days(local(2025, 6, 7, 10), 2) == local(2025, 6, 11, 0)


def test_zero_days_and_utc_in_out(cal: WorkCalendar) -> None:
    start = local(2025, 6, 3, 9)
    assert cal.add_working_days(start, 0) == start
    due = cal.add_working_days(start, 1)
    assert due.utcoffset() == timedelta(0)


def test_day_boundaries_are_shanghai_not_utc(cal: WorkCalendar) -> None:
    # 2026-02-13 17:00 UTC is already Saturday 14 Feb 01:00 in Shanghai (a make-up day).
    moment = local(2026, 2, 14, 1)
    assert moment.day == 13 and local_date(moment) == date(2026, 2, 14)
    assert cal.is_working_day(moment)
    assert cal.add_working_days(moment, 1) == local(2026, 2, 24, 1)


def test_working_days_between(cal: WorkCalendar) -> None:
    assert cal.working_days_between(local(2025, 6, 2, 9), local(2025, 6, 6, 9)) == 4
    assert cal.working_days_between(local(2025, 9, 30), local(2025, 10, 11)) == 3  # 9, 10, 11
    assert cal.working_days_between(local(2025, 10, 11), local(2025, 9, 30)) == -3
    assert cal.working_days_between(local(2026, 2, 13), local(2026, 2, 28)) == 6


def test_working_seconds_skip_rest_days(cal: WorkCalendar) -> None:
    fri = local(2025, 6, 6, 15)
    mon = local(2025, 6, 9, 15)
    assert cal.working_seconds_between(fri, mon) == 24 * 3600
    assert cal.add_working_seconds(fri, 9 * 3600) == local(2025, 6, 7, 0)
    assert cal.add_working_seconds(fri, 10 * 3600) == local(2025, 6, 9, 1)


def test_package_years_are_not_fallback(cal: WorkCalendar) -> None:
    cal.is_working_day(date(2026, 5, 1))
    assert cal.year_source(2026) == "package"
    assert cal.fallback_years == set()


def test_2027_falls_back_to_weekends_and_is_flagged(cal: WorkCalendar) -> None:
    assert cal.is_working_day(date(2027, 1, 1))  # a Friday: really a holiday, but no data
    assert not cal.is_working_day(date(2027, 1, 2))
    assert cal.fallback_years == {2027}
    assert cal.year_source(2027) == "fallback"
    assert cal.new_fallback_years() == {2027}
    assert cal.new_fallback_years() == set()  # announced once


def test_deadline_crossing_into_2027_is_flagged(cal: WorkCalendar) -> None:
    due = cal.add_working_days(local(2026, 12, 31, 10), 1)
    assert due == local(2027, 1, 1, 10)
    assert 2027 in cal.fallback_years


def test_operator_override_for_2027() -> None:
    cal = WorkCalendar([parse_holiday_file(FILE_2027)])
    assert not cal.is_working_day(date(2027, 1, 1))
    assert not cal.is_working_day(date(2027, 2, 10))
    assert cal.is_working_day(date(2027, 2, 7))  # make-up Sunday
    assert cal.is_working_day(date(2027, 2, 15))
    assert cal.fallback_years == set()
    assert cal.year_source(2027) == "override"
    assert cal.add_working_days(local(2026, 12, 31, 10), 1) == local(2027, 1, 4, 10)
    assert cal.add_working_days(local(2027, 2, 5, 10), 1) == local(2027, 2, 7, 10)
    assert cal.add_working_days(local(2027, 2, 7, 10), 1) == local(2027, 2, 15, 10)


def test_override_replaces_package_data_for_its_year() -> None:
    cal = WorkCalendar([YearOverride(2026, frozenset({date(2026, 3, 2)}), frozenset())])
    assert not cal.is_working_day(date(2026, 3, 2))
    assert not cal.is_working_day(date(2026, 2, 14))  # package make-up day no longer applies


def test_parse_holiday_file_values() -> None:
    o = parse_holiday_file(FILE_2027)
    assert o.year == 2027
    assert date(2027, 1, 1) in o.holidays
    assert o.workdays == frozenset({date(2027, 2, 7)})


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("not json", "not JSON"),
        ("[]", "JSON object"),
        ('{"holidays": []}', "'year'"),
        ('{"year": "2027"}', "'year'"),
        ('{"year": 2027, "holidays": "2027-01-01"}', "list"),
        ('{"year": 2027, "holidays": ["2027-13-01"]}', "not a YYYY-MM-DD"),
        ('{"year": 2027, "holidays": [20270101]}', "not a YYYY-MM-DD"),
        ('{"year": 2027, "holidays": ["2026-01-01"]}', "not in 2027"),
        ('{"year": 2027, "holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}', "both"),
        ('{"year": 2027, "extra": 1}', "unknown key"),
    ],
)
def test_parse_holiday_file_errors(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_holiday_file(text)

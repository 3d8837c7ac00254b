"""Pure report computation and rendering: sums, rates from Kpis, ranking, escaping."""

from __future__ import annotations

import csv
import io

import pytest

from dispatch.reports.compute import month_days, rank, report_row, sum_counters
from dispatch.reports.render import notice_csv, notice_html


def test_month_days() -> None:
    assert month_days("2024-02")[-1] == "20240229"
    assert len(month_days("2025-03")) == 31
    with pytest.raises(ValueError):
        month_days("2025-13")


def test_sum_and_row() -> None:
    totals = sum_counters(
        [
            {
                b"accepted": b"3",
                b"closed": b"2",
                b"on_time": b"1",
                b"sign_for_seconds": b"600",
                b"signed_count": b"2",
            },
            {
                "accepted": "1",
                "resolved": "1",
                "rated": "2",
                "satisfied": "1",
                "not_satisfied": "1",
                "unknown_field": "9",
            },
            {},
        ]
    )
    row = report_row("township", "T01", "北城", totals)
    assert (row["accepted"], row["completed"], row["on_time"]) == (4, 3, 1)
    assert row["completion_rate"] == 0.75
    assert row["on_time_rate"] == pytest.approx(1 / 3)
    assert row["satisfaction_rate"] == 0.5
    assert row["avg_sign_for_seconds"] == 300.0
    assert row["avg_resolve_seconds"] is None


def test_rank_orders_by_rates_and_leaves_idle_units_unranked() -> None:
    rows = [
        {
            "code": "A",
            "accepted": 10,
            "completion_rate": 0.9,
            "on_time_rate": 0.8,
            "satisfaction_rate": 1.0,
            "overdue": 0,
        },
        {
            "code": "B",
            "accepted": 10,
            "completion_rate": 0.9,
            "on_time_rate": 0.9,
            "satisfaction_rate": 0.5,
            "overdue": 3,
        },
        {"code": "C", "accepted": 0, "completion_rate": None},
        {
            "code": "D",
            "accepted": 4,
            "completion_rate": 1.0,
            "on_time_rate": None,
            "satisfaction_rate": None,
            "overdue": 0,
        },
    ]
    assert [(r["code"], r["rank"]) for r in rank(rows)] == [
        ("D", 1),
        ("B", 2),
        ("A", 3),
        ("C", None),
    ]


def test_html_is_escaped_and_csv_is_formula_safe() -> None:
    row = {
        "rank": 1,
        "code": "X",
        "name": "<script>alert(1)</script>",
        "accepted": 1,
        "completion_rate": 1.0,
    }
    sections = {"township": [row], "department": [{**row, "name": '=HYPERLINK("x")'}]}
    page = notice_html("测试市<b>", "2025-03", sections, None)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "测试市&lt;b&gt;" in page
    lines = list(csv.reader(io.StringIO(notice_csv("2025-03", sections))))
    assert lines[2][4] == '\'=HYPERLINK("x")'
    assert lines[1][9] == "100.00%"

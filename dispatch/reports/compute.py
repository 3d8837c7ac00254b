"""Pure report computation over KPI counters; the rates come from :class:`Kpis` only.

    totals = sum_counters([hash_day1, hash_day2, ...])       # daily hashes of one unit
    row = report_row("department", "ZJJ", "住建局", totals)
    ranked = rank(rows)

Besides the :class:`Kpis` counters a daily hash may carry timing sums for the averages:
``sign_for_seconds`` / ``signed_count`` (time from hand-over to sign-for) and
``resolve_seconds`` / ``resolve_count`` (time from acceptance to resolution).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gridhub.domain.kpis import Kpis

DIMENSIONS = ("township", "village", "department", "category", "city")
TIMING_FIELDS = ("sign_for_seconds", "signed_count", "resolve_seconds", "resolve_count")


@dataclass(frozen=True)
class Totals:
    """The summed counters of one unit over a period."""

    kpis: Kpis = field(default_factory=Kpis)
    timing: Mapping[str, float] = field(default_factory=dict)


def month_days(month: str) -> list[str]:
    """The days (YYYYMMDD) of ``month`` (YYYY-MM); ValueError for a bad month."""
    year_s, _, mon_s = month.partition("-")
    year, mon = int(year_s), int(mon_s)
    date(year, mon, 1)  # validates
    last = calendar.monthrange(year, mon)[1]
    return [f"{year:04d}{mon:02d}{d:02d}" for d in range(1, last + 1)]


def _num(value: Any) -> float:
    if isinstance(value, bytes):
        value = value.decode()
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def sum_counters(hashes: Iterable[Mapping[Any, Any]]) -> Totals:
    """Add up daily counter hashes (bytes or str keys and values) into :class:`Totals`."""
    counters: dict[str, int] = {}
    timing: dict[str, float] = {}
    for h in hashes:
        for raw_key, raw_value in h.items():
            key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
            value = _num(raw_value)
            if key in TIMING_FIELDS:
                timing[key] = timing.get(key, 0.0) + value
            else:
                counters[key] = counters.get(key, 0) + int(value)
    return Totals(Kpis.from_deltas(counters), timing)


def _avg(total: float | None, count: float | None) -> float | None:
    if not count:
        return None
    return round((total or 0.0) / count, 1)


def report_row(dimension: str, code: str, name: str, totals: Totals) -> dict[str, Any]:
    """One report line: counters, the three rates and the average handling times."""
    k, t = totals.kpis, totals.timing
    return {
        "dimension": dimension,
        "code": code,
        "name": name,
        "accepted": k.accepted,
        "resolved": k.resolved,
        "closed": k.closed,
        "completed": k.completed,
        "on_time": k.on_time,
        "overdue": k.overdue,
        "rated": k.rated,
        "satisfied": k.satisfied,
        "basically_satisfied": k.basically_satisfied,
        "not_satisfied": k.not_satisfied,
        "returned": k.returned,
        "reported_up": k.reported_up,
        "urged": k.urged,
        **k.rates(),
        "avg_sign_for_seconds": _avg(t.get("sign_for_seconds"), t.get("signed_count")),
        "avg_resolve_seconds": _avg(t.get("resolve_seconds"), t.get("resolve_count")),
    }


def _score(row: Mapping[str, Any]) -> tuple[float, float, float, int, str]:
    def rate(name: str) -> float:
        value = row.get(name)
        return -1.0 if value is None else float(value)

    return (
        -rate("completion_rate"),
        -rate("on_time_rate"),
        -rate("satisfaction_rate"),
        int(row.get("overdue") or 0),
        str(row.get("code")),
    )


def rank(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows ranked for the notice: completion rate, then on-time rate, then satisfaction
    (higher first), then fewer overdue; units with nothing accepted come last, unranked."""
    active = sorted((r for r in rows if r.get("accepted")), key=_score)
    idle = sorted((r for r in rows if not r.get("accepted")), key=lambda r: str(r.get("code")))
    out = [{"rank": i, **r} for i, r in enumerate(active, start=1)]
    out += [{"rank": None, **r} for r in idle]
    return out

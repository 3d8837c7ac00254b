"""Reading the daily KPI hashes of a month out of Redis into report rows."""

from __future__ import annotations

from typing import Any

from dispatch.deps import Services
from dispatch.reports.compute import month_days, report_row, sum_counters


def units(svc: Services, dimension: str) -> dict[str, str]:
    """Code → Chinese name of every unit of ``dimension`` in the city."""
    city = svc.city
    if dimension == "township":
        return {c: t.name_zh for c, t in city.townships.items()}
    if dimension == "village":
        return {c: v.name_zh for c, v in city.villages.items()}
    if dimension == "department":
        return {c: d.name_zh for c, d in city.departments.items()}
    if dimension == "category":
        return {c: k.name_zh for c, k in city.categories.items()}
    return {city.code: city.name_zh}


async def month_rows(
    svc: Services, dimension: str, month: str, codes: list[str] | None = None
) -> list[dict[str, Any]]:
    """One row per unit of ``dimension`` (or of ``codes``) for ``month`` (YYYY-MM)."""
    names = units(svc, dimension)
    wanted = [c for c in (codes if codes is not None else list(names)) if c in names]
    days = month_days(month)
    async with svc.redis.pipeline(transaction=False) as pipe:
        for code in wanted:
            for day in days:
                pipe.hgetall(svc.keys.kpi(dimension, code, day))
        results = await pipe.execute()
    rows = []
    for i, code in enumerate(wanted):
        daily = results[i * len(days) : (i + 1) * len(days)]
        rows.append(report_row(dimension, code, names[code], sum_counters(daily)))
    return rows

"""The platform's own report at the end of a run, next to the seed's figures.

Every number comes from the dispatch API's ``GET /v1/reports/kpis`` (dimensions ``city``
and ``category``), one request per month of the period: the API has no period-range or
category-group report yet, so the monthly rows are added up here and categories are put
in their group by the city data file. The simulator never counts matters itself.

    totals = await fetch_totals(dispatch, token, months, city)
    run = totals.minus(baseline)          # what this run added (baseline: before it started)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date

from rich.console import Console
from rich.table import Table

from gridhub.domain.hierarchy import City
from gridhub.domain.kpis import Kpis
from gridhub.simulate.client import Http, SimHttpError
from gridhub.simulate.scenario import Figure


@dataclass(frozen=True)
class Totals:
    """Counters of the whole city and per category group over a range of months."""

    city: Kpis = field(default_factory=Kpis)
    groups: Mapping[str, Kpis] = field(default_factory=dict)

    def minus(self, before: Totals) -> Totals:
        """What was added since ``before``."""
        names = set(self.groups) | set(before.groups)
        return Totals(
            _sub(self.city, before.city),
            {g: _sub(self.groups.get(g, Kpis()), before.groups.get(g, Kpis())) for g in names},
        )

    def value(self, counter: str, group: str | None = None) -> int:
        """``accepted`` or ``completed`` of the city or of one group."""
        k = self.city if group is None else self.groups.get(group, Kpis())
        return int(getattr(k, counter))


def _sub(a: Kpis, b: Kpis) -> Kpis:
    return Kpis(**{f.name: getattr(a, f.name) - getattr(b, f.name) for f in fields(Kpis)})


def months_between(first: date, last: date) -> list[str]:
    """``YYYY-MM`` of every month from ``first``'s to ``last``'s, both included."""
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _row_kpis(row: Mapping[str, object]) -> Kpis:
    names = {f.name for f in fields(Kpis)}
    return Kpis.from_deltas({k: int(v) for k, v in row.items() if k in names and v is not None})  # type: ignore[call-overload]


async def _rows(http: Http, token: str, month: str, dimension: str) -> list[dict[str, object]]:
    resp = await http.request(
        "GET", "/v1/reports/kpis", token=token, params={"month": month, "dimension": dimension}
    )
    if resp.status_code != 200:
        raise SimHttpError("GET", f"/v1/reports/kpis?month={month}", resp.status_code, resp.text)
    rows: list[dict[str, object]] = resp.json()["rows"]
    return rows


async def fetch_totals(http: Http, token: str, months: Sequence[str], city: City) -> Totals:
    """The dispatch API's city and category rows of ``months``, added up (categories by
    group)."""
    total = Kpis()
    groups: dict[str, Kpis] = {}
    for month in months:
        for row in await _rows(http, token, month, "city"):
            total = total.add(_row_kpis(row))
        for row in await _rows(http, token, month, "category"):
            category = city.categories.get(str(row["code"]))
            if category is None:
                continue
            groups[category.group] = groups.get(category.group, Kpis()).add(_row_kpis(row))
    return Totals(total, groups)


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def render(
    console: Console,
    totals: Totals,
    expected: Mapping[str, tuple[int, int]] | None,
    figures: Sequence[Figure],
    title: str,
) -> bool:
    """Print the report (and the seed's figures or the plan's expectations next to it);
    True when every compared number matches."""
    ok = True
    table = Table(title=title)
    for col in ("", "accepted 受理", "completed 办结", "completion 办结率", "expected"):
        table.add_column(col, justify="right" if col else "left")
    exp_total = None
    if expected:
        exp_total = (sum(a for a, _ in expected.values()), sum(c for _, c in expected.values()))
    rows = [("city 全市", totals.city, exp_total)]
    for group in sorted(set(totals.groups) | set(expected or {})):
        rows.append((group, totals.groups.get(group, Kpis()), (expected or {}).get(group)))
    for name, k, exp in rows:
        mark = ""
        if exp is not None:
            same = (k.accepted, k.completed) == exp
            ok &= same
            mark = f"{exp[0]:,} / {exp[1]:,} " + ("[green]✓[/green]" if same else "[red]✗[/red]")
        table.add_row(name, f"{k.accepted:,}", f"{k.completed:,}", _rate(k.completion_rate), mark)
    console.print(table)
    if figures:
        seed = Table(title="the seed's figures vs the platform's report")
        for col in ("figure", "seed", "report", ""):
            seed.add_column(col, justify="left" if col == "figure" else "right")
        for fig in figures:
            got = totals.value(fig.counter, fig.group)
            same = got == fig.value
            ok &= same
            seed.add_row(
                fig.label, f"{fig.value:,}", f"{got:,}", "[green]✓[/green]" if same else "[red]✗"
            )
        console.print(seed)
    k = totals.city
    console.print(
        f"on-time {_rate(k.on_time_rate)}, satisfaction {_rate(k.satisfaction_rate)}, "
        f"overdue {k.overdue:,}, rated {k.rated:,}, returned {k.returned:,}, "
        f"reported up {k.reported_up:,}, urged {k.urged:,}"
    )
    return ok

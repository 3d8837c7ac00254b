"""The 三率 (completion, on-time, satisfaction rates), defined in this one place.

Projections keep counters per (township, department, category, month) incrementally::

    totals = totals.add(Kpis.from_deltas(kpi_deltas(event)))
    totals.completion_rate       # None while nothing was accepted

Counters and their meaning:

* ``accepted``: matters accepted (a matter merged into another stops counting).
* ``resolved`` / ``closed``: matters now in that state; ``completed`` = resolved + closed.
* ``on_time``: completed matters that were resolved by their resolve deadline and never
  went overdue (a reopen or a merge takes the matter out again).
* ``overdue``: matters whose resolve deadline passed (red warning) — counted once per
  deadline generation.
* ``rated`` / ``satisfied`` / ``basically_satisfied`` / ``not_satisfied``: ratings given
  (each feedback visit counts; a reopened and re-rated matter counts twice).

Rates:

* completion rate 办结率 = completed / accepted
* on-time rate 按时办结率 = on_time / completed
* satisfaction rate 满意率 = (satisfied + basically_satisfied) / rated — "basically
  satisfied" (基本满意) counts as satisfied, as in the usual 12345 reporting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from gridhub.domain.events import (
    Accepted,
    Event,
    GridAlert,
    Merged,
    Rated,
    Rejected,
    Reopened,
    ReportedUp,
    Resolved,
    Returned,
    Urged,
    Warning,
)
from gridhub.domain.matter import COMPLETED_STATES

_COMPLETED = {s.value for s in COMPLETED_STATES}


@dataclass(frozen=True)
class Kpis:
    """Counters of one slice (township, department, category, month…); merge with :meth:`add`."""

    accepted: int = 0
    resolved: int = 0
    closed: int = 0
    on_time: int = 0
    overdue: int = 0
    rated: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    not_satisfied: int = 0
    returned: int = 0
    reported_up: int = 0
    urged: int = 0
    grid_alerts: int = 0

    @property
    def completed(self) -> int:
        """Matters resolved or closed."""
        return self.resolved + self.closed

    @property
    def completion_rate(self) -> float | None:
        """办结率: completed / accepted; None when nothing was accepted."""
        return _ratio(self.completed, self.accepted)

    @property
    def on_time_rate(self) -> float | None:
        """按时办结率: completed on time / completed; None when nothing is completed."""
        return _ratio(self.on_time, self.completed)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: (satisfied + basically satisfied) / rated; None when nothing was rated."""
        return _ratio(self.satisfied + self.basically_satisfied, self.rated)

    def add(self, other: Kpis) -> Kpis:
        """Field-wise sum (merge two slices, or apply one event's deltas)."""
        return Kpis(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    @classmethod
    def from_deltas(cls, deltas: Mapping[str, int]) -> Kpis:
        """A Kpis holding ``deltas`` (unknown keys are ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in deltas.items() if k in names})

    def rates(self) -> dict[str, float | None]:
        """The three rates by name, for a board or an API."""
        return {
            "completion_rate": self.completion_rate,
            "on_time_rate": self.on_time_rate,
            "satisfaction_rate": self.satisfaction_rate,
        }


def _ratio(a: int, b: int) -> float | None:
    return a / b if b > 0 else None


def kpi_deltas(event: Event) -> dict[str, int]:
    """How ``event`` changes the counters; empty for events that do not count."""
    if isinstance(event, Rejected):
        return {}
    out: dict[str, int] = {}

    def bump(name: str, by: int = 1) -> None:
        out[name] = out.get(name, 0) + by

    before, after = event.before_state, event.after_state
    for state in ("resolved", "closed"):
        if before == state and after != state:
            bump(state, -1)
        if after == state and before != state:
            bump(state, +1)
    if isinstance(event, Accepted):
        bump("accepted")
    elif isinstance(event, Resolved):
        if event.on_time:
            bump("on_time")
    elif isinstance(event, Reopened | Merged):
        if before in _COMPLETED and event.was_on_time:
            bump("on_time", -1)
        if isinstance(event, Merged):
            bump("accepted", -1)
    elif isinstance(event, Rated):
        bump("rated")
        bump(event.rating)
    elif isinstance(event, Warning):
        if event.level == "red" and event.kind == "resolve":
            bump("overdue")
    elif isinstance(event, Returned):
        bump("returned")
    elif isinstance(event, ReportedUp):
        bump("reported_up")
    elif isinstance(event, Urged):
        bump("urged")
    elif isinstance(event, GridAlert):
        bump("grid_alerts")
    return {k: v for k, v in out.items() if v}

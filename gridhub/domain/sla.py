"""SLA clocks: deadlines from a category's SLA, and the warnings each deadline raises.

    due = deadlines_for(category, "normal", now, calendar)     # {"sign_for": ..., "resolve": ...}
    ws = warning_times("M1", "resolve", 0, start, due["resolve"], WarningPolicy(), calendar)

Clock rule: units s/m/h/d are wall clock (7×24). "wd" uses the working-day calendar,
except for round-the-clock urgencies (:func:`runs_round_the_clock`: ``"urgent"``), where
every working day counts as one calendar day and the escalation ladder runs in calendar
days too.

Warnings of one deadline (all: :func:`warning_times`; one: :func:`warning_at`): ``yellow``
when ``yellow_share`` of its time has elapsed (working time for working-day clocks, so their
yellow never lands on a Sunday; wall time for s/m/h/d clocks, so a 2 h sign-for taken on a
Sunday warns after 96 minutes), ``red`` at the deadline, then ``escalate_1..n`` on the
ladder, each step a number of working days after the deadline.
Each warning has a deterministic id ``"{matter_id}:{kind}:{generation}:{level}"``; a
deadline's generation goes up whenever it is moved, so timers of an old generation are stale.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from gridhub.domain.calendar import WorkCalendar
from gridhub.domain.hierarchy import Category, Duration, DurationUnit

SIGN_FOR = "sign_for"
RESOLVE = "resolve"
REPORT_IN = "report_in"
OWNER_CLOCKS = frozenset({SIGN_FOR, RESOLVE})
ROUND_THE_CLOCK_URGENCIES = frozenset({"urgent"})


def report_in_kind(department: str) -> str:
    """The deadline kind of one summoned department's report-in: ``"report_in:<dept>"``."""
    return f"{REPORT_IN}:{department}"


def department_of_kind(kind: str) -> str | None:
    """The department of a ``"report_in:<dept>"`` kind, or None for other kinds."""
    prefix = REPORT_IN + ":"
    return kind[len(prefix) :] if kind.startswith(prefix) else None


def runs_round_the_clock(urgency: str) -> bool:
    """Whether matters of ``urgency`` run 7×24 (working days become calendar days)."""
    return urgency in ROUND_THE_CLOCK_URGENCIES


def deadline_after(
    start: datetime, length: Duration, calendar: WorkCalendar, round_the_clock: bool = False
) -> datetime:
    """The instant ``length`` after ``start``: wall clock, or working days via ``calendar``."""
    if length.unit == "wd" and not round_the_clock:
        return calendar.add_working_days(start, length.amount)
    return start + timedelta(seconds=length.seconds)


def deadlines_for(
    category: Category, urgency: str, start: datetime, calendar: WorkCalendar
) -> dict[str, datetime]:
    """The sign-for and resolve deadlines of a matter assigned at ``start``."""
    sla = category.sla_for(urgency)
    fast = runs_round_the_clock(urgency)
    return {
        SIGN_FOR: deadline_after(start, sla.sign_for, calendar, fast),
        RESOLVE: deadline_after(start, sla.resolve, calendar, fast),
    }


def report_in_due(
    category: Category, urgency: str, start: datetime, calendar: WorkCalendar
) -> datetime:
    """The default report-in deadline of a department summoned (whistled) at ``start``."""
    sla = category.sla_for(urgency)
    return deadline_after(start, sla.report_in, calendar, runs_round_the_clock(urgency))


def clock_unit(category: Category | None, urgency: str, kind: str) -> DurationUnit:
    """The unit of the SLA that set deadlines of ``kind`` (sign_for, resolve,
    ``report_in:<dept>``); ``"wd"`` when the category is unknown."""
    if category is None:
        return "wd"
    sla = category.sla_for(urgency)
    if kind == SIGN_FOR:
        return sla.sign_for.unit
    if kind == RESOLVE:
        return sla.resolve.unit
    return sla.report_in.unit


@dataclass(frozen=True)
class WarningPolicy:
    """When deadlines warn and whom. Ladder steps: (working days after the deadline, target)."""

    yellow_share: float = 0.8
    ladder: tuple[tuple[int, str], ...] = (
        (1, "township_head"),
        (3, "city_supervision"),
        (5, "city_leader"),
    )
    yellow_target: str = "owner"
    red_target: str = "supervisor"


@dataclass(frozen=True)
class ScheduledWarning:
    """One warning a timer must fire once at ``due_at`` (level: yellow, red, escalate_<n>)."""

    warning_id: str
    matter_id: str
    kind: str
    generation: int
    level: str
    due_at: datetime
    target: str


def warning_id(matter_id: str, kind: str, generation: int, level: str) -> str:
    """The deterministic id of one warning of one deadline generation."""
    return f"{matter_id}:{kind}:{generation}:{level}"


def parse_warning_id(wid: str) -> tuple[str, str, int, str]:
    """Split a :func:`warning_id` back into (matter_id, kind, generation, level).

    The kind may itself contain ``:`` (``report_in:<dept>``); matter ids never do.
    Raises ValueError on a string that is not a warning id.
    """
    matter_id, _, rest = wid.partition(":")
    kind, _, tail = rest.rpartition(":")
    kind, _, generation = kind.rpartition(":")
    if not (matter_id and kind and generation.isdigit() and tail):
        raise ValueError(f"not a warning id: {wid!r}")
    return matter_id, kind, int(generation), tail


def escalation_step(level: str) -> int:
    """The ladder step of ``"escalate_<n>"`` (n ≥ 1), 0 for yellow/red or anything else."""
    prefix = "escalate_"
    if level.startswith(prefix) and level[len(prefix) :].isdigit():
        return int(level[len(prefix) :])
    return 0


@functools.cache
def warning_levels(policy: WarningPolicy) -> tuple[str, ...]:
    """The levels of one deadline's warnings, in time order: yellow, red, escalate_1..n."""
    return ("yellow", "red", *(f"escalate_{k}" for k in range(1, len(policy.ladder) + 1)))


def warning_at(
    matter_id: str,
    kind: str,
    generation: int,
    level: str,
    start: datetime,
    due: datetime,
    policy: WarningPolicy,
    calendar: WorkCalendar,
    round_the_clock: bool = False,
    *,
    unit: DurationUnit = "wd",
) -> ScheduledWarning | None:
    """The warning ``level`` (one of :func:`warning_levels`) of the deadline running from
    ``start`` to ``due``, or None for a level the policy does not have; the rules are those
    of :func:`warning_times`, and only this level's instant is computed."""
    if level == "red":
        return _warning(matter_id, kind, generation, level, due, policy.red_target)
    if level == "yellow":
        if round_the_clock or unit != "wd":
            yellow = start + (due - start) * policy.yellow_share
        else:
            total = calendar.working_seconds_between(start, due)
            yellow = calendar.add_working_seconds(start, total * policy.yellow_share)
            yellow = min(max(yellow, start), due)
        return _warning(matter_id, kind, generation, level, yellow, policy.yellow_target)
    step = escalation_step(level)
    if not 1 <= step <= len(policy.ladder):
        return None
    days, target = policy.ladder[step - 1]
    at = due + timedelta(days=days) if round_the_clock else calendar.add_working_days(due, days)
    return _warning(matter_id, kind, generation, level, at, target)


def warning_times(
    matter_id: str,
    kind: str,
    generation: int,
    start: datetime,
    due: datetime,
    policy: WarningPolicy,
    calendar: WorkCalendar,
    round_the_clock: bool = False,
    *,
    unit: DurationUnit = "wd",
) -> list[ScheduledWarning]:
    """All warnings of one deadline running from ``start`` to ``due``, in time order.

    ``unit`` is that of the SLA the deadline came from (:func:`clock_unit`). Yellow is at
    ``yellow_share`` of the working time for working-day deadlines ("wd"), of the wall time
    for wall-clock ones (s/m/h/d) or when ``round_the_clock``; red at ``due``; ladder step k
    is ``policy.ladder[k-1][0]`` working days after ``due`` (calendar days when
    ``round_the_clock``).
    """
    out = []
    for level in warning_levels(policy):
        w = warning_at(
            matter_id,
            kind,
            generation,
            level,
            start,
            due,
            policy,
            calendar,
            round_the_clock,
            unit=unit,
        )
        assert w is not None
        out.append(w)
    return out


def _warning(
    matter_id: str, kind: str, generation: int, level: str, due_at: datetime, target: str
) -> ScheduledWarning:
    # The frozen __init__ costs one object.__setattr__ per field; several of these are built
    # per matter and batch, so the instance dict is filled directly (same object).
    w = object.__new__(ScheduledWarning)
    w.__dict__.update(
        warning_id=f"{matter_id}:{kind}:{generation}:{level}",
        matter_id=matter_id,
        kind=kind,
        generation=generation,
        level=level,
        due_at=due_at,
        target=target,
    )
    return w

"""SLA deadlines and the warning schedule."""

from __future__ import annotations

from datetime import timedelta

from gridhub.domain.calendar import WorkCalendar
from gridhub.domain.hierarchy import Duration
from gridhub.domain.sla import (
    WarningPolicy,
    deadline_after,
    deadlines_for,
    department_of_kind,
    escalation_step,
    report_in_due,
    report_in_kind,
    runs_round_the_clock,
    warning_id,
    warning_times,
)

from .support import CITY, local

CAL = WorkCalendar()


def test_wall_clock_units() -> None:
    start = local(2025, 10, 1, 9)  # a holiday: wall-clock units ignore it
    assert deadline_after(start, Duration.parse("30s"), CAL) == start + timedelta(seconds=30)
    assert deadline_after(start, Duration.parse("15m"), CAL) == start + timedelta(minutes=15)
    assert deadline_after(start, Duration.parse("2h"), CAL) == start + timedelta(hours=2)
    assert deadline_after(start, Duration.parse("2d"), CAL) == start + timedelta(days=2)


def test_working_days_use_the_calendar() -> None:
    assert deadline_after(local(2025, 9, 30, 15), Duration.parse("1wd"), CAL) == local(
        2025, 10, 9, 15
    )


def test_urgent_runs_round_the_clock() -> None:
    assert runs_round_the_clock("urgent") and not runs_round_the_clock("normal")
    start = local(2025, 9, 30, 15)
    assert deadline_after(start, Duration.parse("1wd"), CAL, True) == local(2025, 10, 1, 15)
    dues = deadlines_for(CITY.categories["ROAD"], "urgent", start, CAL)
    assert dues == {"sign_for": start + timedelta(minutes=30), "resolve": local(2025, 10, 1, 15)}


def test_deadlines_for_normal_matter() -> None:
    start = local(2025, 9, 30, 15)
    dues = deadlines_for(CITY.categories["ROAD"], "normal", start, CAL)
    assert dues["sign_for"] == local(2025, 9, 30, 17)
    assert dues["resolve"] == local(2025, 10, 11, 15)  # 9, 10, then make-up Saturday 11
    assert report_in_due(CITY.categories["ROAD"], "normal", start, CAL) == local(2025, 9, 30, 19)


def test_unknown_urgency_falls_back_to_normal() -> None:
    start = local(2025, 6, 3, 9)
    assert deadlines_for(CITY.categories["ROAD"], "weird", start, CAL) == deadlines_for(
        CITY.categories["ROAD"], "normal", start, CAL
    )


def test_warning_schedule_working_days() -> None:
    start, due = local(2025, 6, 6, 15), local(2025, 6, 9, 15)  # Fri → Mon, 1 working day
    ws = warning_times("M1", "resolve", 2, start, due, WarningPolicy(), CAL)
    assert [w.level for w in ws] == ["yellow", "red", "escalate_1", "escalate_2", "escalate_3"]
    # 80% of 24 working hours = 19.2 h: 9 h on Friday, 10.2 h on Monday → Mon 10:12.
    assert ws[0].due_at == local(2025, 6, 9, 10, 12)
    assert ws[1].due_at == due
    assert ws[2].due_at == local(2025, 6, 10, 15)
    assert ws[3].due_at == local(2025, 6, 12, 15)
    assert ws[4].due_at == local(2025, 6, 16, 15)
    assert [w.target for w in ws] == [
        "owner",
        "supervisor",
        "township_head",
        "city_supervision",
        "city_leader",
    ]
    assert ws[0].warning_id == "M1:resolve:2:yellow" == warning_id("M1", "resolve", 2, "yellow")
    assert all(w.matter_id == "M1" and w.generation == 2 and w.kind == "resolve" for w in ws)


def test_ladder_skips_holidays() -> None:
    due = local(2025, 9, 30, 15)
    ws = warning_times("M1", "resolve", 1, local(2025, 9, 29, 15), due, WarningPolicy(), CAL)
    assert ws[2].due_at == local(2025, 10, 9, 15)


def test_warning_schedule_round_the_clock() -> None:
    start = local(2025, 10, 1, 0)
    due = start + timedelta(hours=10)
    ws = warning_times("M1", "sign_for", 1, start, due, WarningPolicy(), CAL, True)
    assert ws[0].due_at == start + timedelta(hours=8)
    assert ws[2].due_at == due + timedelta(days=1)
    assert ws[4].due_at == due + timedelta(days=5)


def test_custom_policy() -> None:
    policy = WarningPolicy(yellow_share=0.5, ladder=((2, "mayor"),))
    start = local(2025, 10, 1, 0)
    ws = warning_times("M", "k", 1, start, start + timedelta(hours=4), policy, CAL, True)
    assert [w.level for w in ws] == ["yellow", "red", "escalate_1"]
    assert ws[0].due_at == start + timedelta(hours=2)
    assert ws[2].target == "mayor"


def test_kind_helpers() -> None:
    assert report_in_kind("WATER") == "report_in:WATER"
    assert department_of_kind("report_in:WATER") == "WATER"
    assert department_of_kind("resolve") is None
    assert escalation_step("escalate_3") == 3
    assert escalation_step("red") == 0


def test_wall_clock_deadline_on_a_sunday_warns_at_its_wall_clock_share() -> None:
    """A normal 2 h sign-for accepted on a Sunday: yellow at +96 min, not at once."""
    from gridhub.domain.machine import apply, pending_timers

    from .support import CTX, accept

    sunday = local(2025, 6, 8, 10)
    state, _ = apply(None, accept(category="ROAD", at=sunday), CTX)
    assert state is not None and state.deadlines["sign_for"].due_at == sunday + timedelta(hours=2)
    timers = {(w.kind, w.level): w.due_at for w in pending_timers(state, CTX)}
    assert timers[("sign_for", "yellow")] == sunday + timedelta(minutes=96)
    assert timers[("sign_for", "red")] == sunday + timedelta(hours=2)
    # The working-day resolve clock (3wd from a Sunday: the end of Wednesday) still warns in
    # working time: 80% of Mon–Wed is 57.6 h, i.e. Wednesday 09:36.
    assert timers[("resolve", "yellow")] == local(2025, 6, 11, 9, 36)


def test_warning_times_wall_clock_units_use_wall_time() -> None:
    sunday = local(2025, 6, 8, 10)
    due = sunday + timedelta(hours=2)
    ws = warning_times("M1", "sign_for", 1, sunday, due, WarningPolicy(), CAL, unit="h")
    assert ws[0].due_at == sunday + timedelta(minutes=96)
    assert ws[2].due_at == local(2025, 6, 10)  # the ladder still counts working days
    worked = warning_times("M1", "resolve", 1, sunday, due, WarningPolicy(), CAL, unit="wd")
    assert worked[0].due_at == sunday  # "wd" counts working time: none of it on a Sunday

"""Deadline ticks: pending timers, exactly-once warnings, stale generations, grid alerts."""

from __future__ import annotations

from datetime import timedelta

from gridhub.domain import events as ev
from gridhub.domain.commands import (
    SYSTEM,
    DeadlineDue,
    DecideExtension,
    ReportIn,
    RequestExtension,
    Resolve,
    SignFor,
    Whistle,
)
from gridhub.domain.machine import apply, pending_timers, timer_command
from gridhub.domain.matter import Matter
from gridhub.domain.sla import (
    ScheduledWarning,
    clock_unit,
    runs_round_the_clock,
    warning_times,
)

from .support import CTX, OPERATOR, SUPERVISOR, T0, accept, dept, later, ok, township, village

V1 = village("V1")


def fast() -> Matter:
    m, _ = ok(None, accept(category="TEST-FAST"))
    return m


def find(m: Matter, kind: str, level: str) -> ScheduledWarning:
    return next(w for w in pending_timers(m, CTX) if w.kind == kind and w.level == level)


def test_pending_timers_of_a_new_matter() -> None:
    m = fast()
    timers = pending_timers(m, CTX)
    assert {(w.kind, w.level) for w in timers} >= {("sign_for", "yellow"), ("resolve", "red")}
    assert len(timers) == 4  # 2 deadlines × (yellow, red); ladder steps come one at a time
    assert timers == sorted(timers, key=lambda w: (w.due_at, w.warning_id))
    sign_yellow = find(m, "sign_for", "yellow")
    assert sign_yellow.due_at == T0 + timedelta(seconds=1.6)
    assert find(m, "resolve", "red").due_at == T0 + timedelta(seconds=10)
    assert sign_yellow.warning_id == "M1:sign_for:1:yellow"


def test_ladder_steps_are_scheduled_one_at_a_time_after_red() -> None:
    m = fast()
    ladder = [w for w in warning_times_of(m, "resolve") if w.level.startswith("escalate_")]
    assert [w.level for w in ladder] == ["escalate_1", "escalate_2", "escalate_3"]
    for w in (find(m, "resolve", "yellow"), find(m, "resolve", "red")):
        m, _ = ok(m, timer_command(w, w.due_at))
    for step in ladder:
        resolve = [t for t in pending_timers(m, CTX) if t.kind == "resolve"]
        assert resolve == [step]  # the same instant as in the whole schedule
        m, events = ok(m, timer_command(step, step.due_at))
        assert isinstance(events[0], ev.Warning) and events[0].level == step.level
    assert [t for t in pending_timers(m, CTX) if t.kind == "resolve"] == []


def warning_times_of(m: Matter, kind: str) -> list[ScheduledWarning]:
    deadline = m.deadlines[kind]
    return warning_times(
        m.id,
        kind,
        deadline.generation,
        deadline.started_at,
        deadline.due_at,
        CTX.policy,
        CTX.calendar,
        runs_round_the_clock(m.urgency),
        unit=clock_unit(CTX.city.categories[m.category], m.urgency, kind),
    )


def test_yellow_on_village_tier_raises_grid_alert_and_fires_once() -> None:
    m = fast()
    w = find(m, "resolve", "yellow")
    m2, events = apply(m, timer_command(w, w.due_at), CTX)
    assert [e.type for e in events] == ["warning", "grid_alert"]
    warning, alert = events
    assert isinstance(warning, ev.Warning) and warning.level == "yellow"
    assert warning.warning_id == w.warning_id and warning.target == "owner"
    assert isinstance(alert, ev.GridAlert) and alert.reason == "near_deadline"
    assert m2 is not None and m2.version == m.version + 1
    assert w.warning_id in m2.fired_warnings
    assert w not in pending_timers(m2, CTX)
    again, none = apply(m2, timer_command(w, w.due_at + timedelta(seconds=1)), CTX)
    assert again is m2 and none == []


def test_red_on_resolve_marks_overdue_and_late_resolution() -> None:
    m, _ = ok(fast(), SignFor(matter_id="M1", actor=V1, at=later(minutes=0.01)))
    w = find(m, "resolve", "red")
    m, events = ok(m, timer_command(w, w.due_at))
    assert m.overdue and events[0].type == "warning"
    w1 = find(m, "resolve", "escalate_1")
    m, events = ok(m, timer_command(w1, w1.due_at))
    assert m.escalation_level == 1
    assert isinstance(events[0], ev.Warning) and events[0].target == "township_head"
    m, events = ok(m, Resolve(matter_id="M1", actor=V1, at=w1.due_at, result="late"))
    assert m.resolved_on_time is False
    assert pending_timers(m, CTX) == []


def test_tick_after_sign_for_is_stale() -> None:
    m = fast()
    w = find(m, "sign_for", "red")
    m, _ = ok(m, SignFor(matter_id="M1", actor=V1, at=later(minutes=0.01)))
    same, events = apply(m, timer_command(w, w.due_at), CTX)
    assert same is m and events == []
    assert all(t.kind != "sign_for" for t in pending_timers(m, CTX))


def test_moved_deadline_makes_old_generation_stale() -> None:
    m, _ = ok(None, accept())
    m, _ = ok(m, SignFor(matter_id="M1", actor=V1, at=later(minutes=1)))
    old = find(m, "resolve", "red")
    m, _ = ok(
        m,
        RequestExtension(
            matter_id="M1",
            actor=V1,
            at=later(hours=1),
            reason="x",
            proposed_due=old.due_at + timedelta(days=3),
        ),
    )
    m, _ = ok(m, DecideExtension(matter_id="M1", actor=SUPERVISOR, at=later(hours=2), approve=True))
    same, events = apply(m, timer_command(old, old.due_at), CTX)
    assert same is m and events == []
    new = find(m, "resolve", "red")
    assert new.generation == old.generation + 1
    assert new.warning_id == f"M1:resolve:{new.generation}:red"
    assert new.due_at == old.due_at + timedelta(days=3)


def test_mismatched_level_or_unknown_id_does_nothing() -> None:
    m = fast()
    w = find(m, "resolve", "red")
    bad_level = DeadlineDue(
        matter_id="M1",
        actor=SYSTEM,
        at=w.due_at,
        warning_id=w.warning_id,
        level="yellow",
        kind=w.kind,
        generation=w.generation,
    )
    assert apply(m, bad_level, CTX) == (m, [])
    unknown = DeadlineDue(
        matter_id="M1",
        actor=SYSTEM,
        at=w.due_at,
        warning_id="M1:x:1:red",
        level="red",
        kind="resolve",
        generation=1,
    )
    assert apply(m, unknown, CTX) == (m, [])
    wrong_kind = DeadlineDue(
        matter_id="M1",
        actor=SYSTEM,
        at=w.due_at,
        warning_id="x",
        level="red",
        kind="report_in:URBAN",
        generation=1,
    )
    assert apply(m, wrong_kind, CTX) == (m, [])


def test_no_timers_for_closed_matters() -> None:
    m, _ = ok(None, accept(source="patrol", solved_on_spot=True))
    assert pending_timers(m, CTX) == []
    assert pending_timers(None, CTX) == []


def test_department_report_in_overdue_warns_and_escalates() -> None:
    m, _ = ok(None, accept(category="DISPUTE"))
    m, _ = ok(
        m,
        Whistle(
            matter_id="M1",
            actor=township("T1"),
            at=later(minutes=1),
            departments=("URBAN", "WATER"),
        ),
    )
    red = find(m, "report_in:URBAN", "red")
    assert red.due_at == later(minutes=1, hours=4)
    m, _ = ok(
        m, ReportIn(matter_id="M1", actor=dept("WATER"), at=later(hours=1), department="WATER")
    )
    assert all(t.kind != "report_in:WATER" for t in pending_timers(m, CTX))
    m, events = ok(m, timer_command(red, red.due_at))
    (warning,) = events
    assert isinstance(warning, ev.Warning)
    assert (warning.level, warning.kind, warning.department) == ("red", "report_in:URBAN", "URBAN")
    assert warning.target == "supervisor"
    assert not m.overdue  # a missed report-in is not a missed resolve deadline
    esc = find(m, "report_in:URBAN", "escalate_1")
    m, events = ok(m, timer_command(esc, esc.due_at))
    assert m.escalation_level == 1
    # The late department can still report in; it is recorded as late.
    m, events = ok(
        m, ReportIn(matter_id="M1", actor=dept("URBAN"), at=esc.due_at, department="URBAN")
    )
    assert isinstance(events[0], ev.ReportedIn) and not events[0].on_time


def test_yellow_on_department_matter_has_no_grid_alert() -> None:
    m, _ = ok(None, accept(category="WATER"))
    w = find(m, "sign_for", "yellow")
    _, events = ok(m, timer_command(w, w.due_at))
    assert [e.type for e in events] == ["warning"]


def test_urgent_matter_timers_run_round_the_clock() -> None:
    # Accepted on National Day 2025 (a holiday): urgent clocks ignore the holiday.
    start = T0.replace(year=2025, month=10, day=2)
    m, _ = ok(None, accept(urgency="urgent", at=start))
    assert m.deadlines["resolve"].due_at == start + timedelta(days=1)
    escalate_1 = next(w for w in warning_times_of(m, "resolve") if w.level == "escalate_1")
    assert escalate_1.due_at == start + timedelta(days=2)


def test_timer_command_fields() -> None:
    m = fast()
    w = find(m, "resolve", "red")
    c = timer_command(w, w.due_at)
    assert (c.matter_id, c.warning_id, c.level, c.kind, c.generation) == (
        "M1",
        w.warning_id,
        "red",
        "resolve",
        w.generation,
    )
    assert c.actor.role == "system" and c.command_id == w.warning_id
    assert OPERATOR.role == "city_operator"

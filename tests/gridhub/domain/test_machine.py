"""The matter life cycle through ``apply``: happy paths and hand-overs."""

from __future__ import annotations

from datetime import timedelta

from gridhub.domain import events as ev
from gridhub.domain.commands import (
    AddProgress,
    Assign,
    Close,
    DecideExtension,
    EscalateToLeader,
    Forward,
    Merge,
    Rate,
    Reopen,
    ReportIn,
    ReportUp,
    RequestExtension,
    Resolve,
    Return,
    SignFor,
    Supervise,
    Urge,
    Whistle,
)
from gridhub.domain.machine import apply
from gridhub.domain.matter import Owner, State

from .support import (
    CTX,
    LEADER,
    OPERATOR,
    SUPERVISOR,
    SYSTEM,
    T0,
    accept,
    dept,
    later,
    ok,
    run,
    township,
    village,
    worker,
)

V1 = village("V1")


def types(events: list[ev.Event]) -> list[str]:
    return [e.type for e in events]


def test_accept_routes_and_starts_clocks() -> None:
    m, events = ok(None, accept())
    assert types(events) == ["accepted", "assigned"]
    assert [(e.before_state, e.after_state) for e in events] == [
        ("", "accepted"),
        ("accepted", "assigned"),
    ]
    assert m.state == State.ASSIGNED and m.version == 1
    assert m.owner == Owner(kind="village", code="V1") and m.tier.value == "village"
    assert (m.village, m.township) == ("V1", "T1")
    assert m.deadlines["sign_for"].due_at == T0 + timedelta(hours=2)
    assert m.deadlines["resolve"].due_at == later(days=3)  # Tue → Fri same time
    assert all(e.version == 1 and e.owner == m.owner for e in events)
    assert [e.event_id for e in events] == ["M1:1:0", "M1:1:1"]


def test_duplicate_accept_is_a_no_op() -> None:
    m, _ = ok(None, accept())
    again, events = apply(m, accept(at=later(hours=1)), CTX)
    assert again is m and events == []


def test_department_tier_gets_co_handlers() -> None:
    m, _ = ok(None, accept(category="WATER"))
    assert m.owner == Owner(kind="department", code="WATER")
    assert m.co_handlers == ("URBAN",)
    assert m.departments == ("WATER", "URBAN")


def test_patrol_solved_on_spot_is_closed_and_counted() -> None:
    m, events = ok(
        None,
        accept(
            source="patrol", solved_on_spot=True, result="fixed", actor=worker("G1"), worker_id="w1"
        ),
    )
    assert types(events) == ["accepted", "resolved", "closed"]
    assert m.state == State.CLOSED and m.resolved_on_time is True
    assert m.result == "fixed" and m.resolved_at == m.closed_at == T0
    assert m.owner == Owner(kind="village", code="V1")
    assert m.deadlines == {}


def test_full_life_cycle_with_satisfied_rating() -> None:
    m, _ = ok(None, accept())
    m, e = ok(m, SignFor(matter_id="M1", actor=V1, at=later(minutes=30)))
    assert m.state == State.SIGNED_FOR and "sign_for" not in m.deadlines
    assert isinstance(e[0], ev.SignedFor) and e[0].on_time
    m, _ = ok(m, AddProgress(matter_id="M1", actor=V1, at=later(hours=1), note="on it"))
    assert m.state == State.IN_PROGRESS
    m, _ = ok(m, AddProgress(matter_id="M1", actor=worker("G1"), at=later(hours=2), note="x"))
    m, e = ok(m, Resolve(matter_id="M1", actor=V1, at=later(hours=3), result="filled"))
    assert m.state == State.RESOLVED and m.resolved_on_time is True and m.deadlines == {}
    m, e = ok(m, Rate(matter_id="M1", actor=OPERATOR, at=later(days=1), rating="satisfied"))
    assert types(e) == ["rated", "closed"]
    assert m.state == State.CLOSED and m.rating == "satisfied"
    assert m.version == 6


def test_basically_satisfied_also_closes() -> None:
    m, _ = run(
        None,
        accept(),
        SignFor(matter_id="M1", actor=V1, at=later(minutes=1)),
        Resolve(matter_id="M1", actor=V1, at=later(minutes=2), result="ok"),
        Rate(matter_id="M1", actor=OPERATOR, at=later(minutes=3), rating="basically_satisfied"),
    )
    assert m is not None and m.state == State.CLOSED


def test_not_satisfied_reopens_to_last_owner_with_fresh_clocks() -> None:
    m, _ = run(
        None,
        accept(category="WATER"),
        SignFor(matter_id="M1", actor=dept("WATER"), at=later(minutes=1)),
        Resolve(matter_id="M1", actor=dept("WATER"), at=later(minutes=2), result="ok"),
    )
    assert m is not None
    gen = m.generations["resolve"]
    m, e = ok(
        m,
        Rate(
            matter_id="M1",
            actor=OPERATOR,
            at=later(hours=5),
            rating="not_satisfied",
            comment="still leaking",
        ),
    )
    assert types(e) == ["rated", "reopened"]
    assert m.state == State.ASSIGNED and m.owner == Owner(kind="department", code="WATER")
    assert m.co_handlers == ("URBAN",)
    assert m.reopen_count == 1 and m.rating is None and m.resolved_at is None
    assert m.deadlines["resolve"].generation == gen + 1
    assert m.deadlines["resolve"].started_at == later(hours=5)
    reopened = e[1]
    assert isinstance(reopened, ev.Reopened) and reopened.was_on_time


def test_close_then_reopen() -> None:
    m, _ = run(
        None,
        accept(),
        SignFor(matter_id="M1", actor=V1, at=later(minutes=1)),
        Resolve(matter_id="M1", actor=V1, at=later(minutes=2), result="ok"),
        Close(matter_id="M1", actor=SUPERVISOR, at=later(minutes=3)),
    )
    assert m is not None and m.state == State.CLOSED
    m, _e = ok(m, Reopen(matter_id="M1", actor=SUPERVISOR, at=later(hours=1), reason="recheck"))
    assert m.state == State.ASSIGNED and m.closed_at is None and m.reopen_count == 1


def test_late_rating_after_close_may_reopen() -> None:
    m, _ = run(
        None,
        accept(),
        SignFor(matter_id="M1", actor=V1, at=later(minutes=1)),
        Resolve(matter_id="M1", actor=V1, at=later(minutes=2), result="ok"),
        Close(matter_id="M1", actor=OPERATOR, at=later(minutes=3)),
    )
    m, e = ok(m, Rate(matter_id="M1", actor=OPERATOR, at=later(days=2), rating="satisfied"))
    assert types(e) == ["rated"] and m.state == State.CLOSED
    m2, _ = run(
        None,
        accept(),
        SignFor(matter_id="M1", actor=V1, at=later(minutes=1)),
        Resolve(matter_id="M1", actor=V1, at=later(minutes=2), result="ok"),
        Close(matter_id="M1", actor=OPERATOR, at=later(minutes=3)),
        Rate(matter_id="M1", actor=OPERATOR, at=later(days=2), rating="not_satisfied"),
    )
    assert m2 is not None and m2.state == State.ASSIGNED


def test_report_up_ladder_village_to_leader() -> None:
    m, _ = ok(None, accept())
    m, e = ok(m, ReportUp(matter_id="M1", actor=V1, at=later(minutes=5), reason="too big"))
    assert types(e) == ["reported_up", "grid_alert"]
    alert = e[1]
    assert isinstance(alert, ev.GridAlert) and alert.reason == "cannot_solve"
    assert m.owner == Owner(kind="township", code="T1") and m.state == State.ASSIGNED
    assert m.deadlines["sign_for"].generation == 2
    m, e = ok(m, ReportUp(matter_id="M1", actor=township("T1"), at=later(minutes=6), reason="x"))
    assert types(e) == ["reported_up"] and m.owner == Owner(kind="city", code="C1")
    m, e = ok(m, ReportUp(matter_id="M1", actor=OPERATOR, at=later(minutes=7), reason="x"))
    assert m.owner == Owner(kind="department", code="URBAN") and m.tier.value == "department"
    m, e = ok(m, SignFor(matter_id="M1", actor=dept("URBAN"), at=later(minutes=8)))
    m, e = ok(m, ReportUp(matter_id="M1", actor=dept("URBAN"), at=later(minutes=9), reason="x"))
    assert m.owner == Owner(kind="leader", code="C1") and m.tier.value == "leader"


def test_forward_primary_and_co_handlers() -> None:
    m, _ = ok(None, accept(category="PERMIT"))
    assert m.owner.kind == "city"
    m, e = ok(
        m,
        Forward(
            matter_id="M1", actor=OPERATOR, at=later(minutes=10), departments=("WATER", "JUSTICE")
        ),
    )
    fwd = e[0]
    assert isinstance(fwd, ev.Forwarded) and fwd.primary == "WATER"
    assert fwd.co_handlers == ("JUSTICE",)
    assert m.owner == Owner(kind="department", code="WATER") and m.co_handlers == ("JUSTICE",)
    # The co-handler may add progress once signed for, but not resolve.
    m, _ = ok(m, SignFor(matter_id="M1", actor=dept("WATER"), at=later(minutes=11)))
    m, _ = ok(
        m, AddProgress(matter_id="M1", actor=dept("JUSTICE"), at=later(minutes=12), note="we help")
    )


def test_assign_and_return() -> None:
    m, _ = ok(None, accept())
    m, e = ok(
        m,
        Assign(
            matter_id="M1",
            actor=OPERATOR,
            at=later(minutes=1),
            owner=Owner(kind="department", code="URBAN"),
        ),
    )
    assert isinstance(e[0], ev.Assigned) and e[0].previous_owner == Owner(kind="village", code="V1")
    m, e = ok(
        m, Return(matter_id="M1", actor=dept("URBAN"), at=later(minutes=2), reason="not ours")
    )
    assert m.owner == Owner(kind="city", code="C1") and m.state == State.ASSIGNED


def test_township_assigns_to_its_own_village() -> None:
    m, _ = ok(None, accept(category="DISPUTE"))
    m, _ = ok(
        m,
        Assign(
            matter_id="M1",
            actor=township("T1"),
            at=later(minutes=1),
            owner=Owner(kind="village", code="V2"),
        ),
    )
    assert m.owner == Owner(kind="village", code="V2")


def test_extension_request_and_approval_moves_deadline() -> None:
    m, _ = run(None, accept(), SignFor(matter_id="M1", actor=V1, at=later(minutes=1)))
    assert m is not None
    old = m.deadlines["resolve"]
    proposed = old.due_at + timedelta(days=2)
    m, _ = ok(
        m,
        RequestExtension(
            matter_id="M1", actor=V1, at=later(hours=1), reason="parts", proposed_due=proposed
        ),
    )
    assert m.extension is not None and m.extension.proposed_due == proposed
    m, e = ok(m, DecideExtension(matter_id="M1", actor=SUPERVISOR, at=later(hours=2), approve=True))
    assert m.extension is None
    assert m.deadlines["resolve"].due_at == proposed
    assert m.deadlines["resolve"].generation == old.generation + 1
    assert isinstance(e[0], ev.ExtensionDecided) and e[0].new_due == proposed


def test_extension_refused_keeps_deadline() -> None:
    m, _ = run(None, accept(), SignFor(matter_id="M1", actor=V1, at=later(minutes=1)))
    assert m is not None
    old = m.deadlines["resolve"]
    m, _ = ok(
        m,
        RequestExtension(
            matter_id="M1",
            actor=V1,
            at=later(hours=1),
            reason="parts",
            proposed_due=old.due_at + timedelta(days=1),
        ),
    )
    m, _ = ok(m, DecideExtension(matter_id="M1", actor=LEADER, at=later(hours=2), approve=False))
    assert m.extension is None and m.deadlines["resolve"] == old


def test_urge_supervise_escalate() -> None:
    m, _ = ok(None, accept())
    m, e = ok(m, Urge(matter_id="M1", actor=SUPERVISOR, at=later(minutes=1)))
    m, e = ok(m, Urge(matter_id="M1", actor=township("T1"), at=later(minutes=2)))
    assert m.urge_count == 2 and isinstance(e[0], ev.Urged) and e[0].urge_count == 2
    m, _ = ok(m, Supervise(matter_id="M1", actor=SUPERVISOR, at=later(minutes=3)))
    assert m.supervised
    m, e = ok(m, EscalateToLeader(matter_id="M1", actor=SUPERVISOR, at=later(minutes=4)))
    assert m.owner == Owner(kind="leader", code="C1") and m.state == State.ASSIGNED
    m, _ = ok(m, SignFor(matter_id="M1", actor=LEADER, at=later(minutes=5)))


def test_whistle_and_report_in() -> None:
    m, _ = ok(None, accept(category="DISPUTE"))
    m, e = ok(
        m,
        Whistle(
            matter_id="M1",
            actor=township("T1"),
            at=later(minutes=1),
            departments=("JUSTICE", "URBAN"),
        ),
    )
    w = e[0]
    assert isinstance(w, ev.Whistled) and w.report_in_due == later(minutes=1, hours=4)
    assert set(m.whistle_tasks) == {"JUSTICE", "URBAN"}
    assert m.departments == ("JUSTICE", "URBAN")
    m, e = ok(
        m, ReportIn(matter_id="M1", actor=dept("URBAN"), at=later(hours=1), department="URBAN")
    )
    assert isinstance(e[0], ev.ReportedIn) and e[0].on_time
    assert m.whistle_tasks["URBAN"].reported_at == later(hours=1)
    # Once reported, the department may be summoned again (new generation).
    m, _ = ok(
        m,
        Whistle(
            matter_id="M1",
            actor=OPERATOR,
            at=later(hours=2),
            departments=("URBAN",),
            report_in_due=later(hours=3),
        ),
    )
    assert m.whistle_tasks["URBAN"].generation == 2


def test_merge_is_final() -> None:
    m, _ = ok(None, accept())
    m, _e = ok(m, Merge(matter_id="M1", actor=OPERATOR, at=later(minutes=1), into="M0"))
    assert m.state == State.MERGED and m.merged_into == "M0" and m.deadlines == {}


def test_resolve_late_is_not_on_time() -> None:
    m, _ = run(None, accept(), SignFor(matter_id="M1", actor=V1, at=later(minutes=1)))
    m, e = ok(m, Resolve(matter_id="M1", actor=V1, at=later(days=5), result="late"))
    assert m.resolved_on_time is False
    assert isinstance(e[0], ev.Resolved) and not e[0].on_time


def test_command_id_is_echoed() -> None:
    m, _ = ok(None, accept())
    _, e = ok(m, SignFor(matter_id="M1", actor=V1, at=later(minutes=1), command_id="cmd-9"))
    assert e[0].command_id == "cmd-9"


def test_system_actor_may_act_for_owner() -> None:
    m, _ = ok(None, accept())
    m, _ = ok(m, SignFor(matter_id="M1", actor=SYSTEM, at=later(minutes=1)))
    assert m.state == State.SIGNED_FOR

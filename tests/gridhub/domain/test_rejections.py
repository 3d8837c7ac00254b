"""Every illegal command is refused with a reason and leaves the state untouched."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from gridhub.domain.commands import (
    AddProgress,
    Assign,
    Close,
    Command,
    DeadlineDue,
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
from gridhub.domain.events import Rejected
from gridhub.domain.machine import apply
from gridhub.domain.matter import Matter, Owner

from .support import (
    AUDITOR,
    CITIZEN,
    CTX,
    LEADER,
    OPERATOR,
    SUPERVISOR,
    T0,
    accept,
    dept,
    later,
    ok,
    rejected,
    run,
    township,
    village,
    worker,
)

V1 = village("V1")


def assigned() -> Matter:
    m, _ = ok(None, accept())
    return m


def signed() -> Matter:
    return ok(assigned(), SignFor(matter_id="M1", actor=V1, at=later(minutes=1)))[0]


def resolved() -> Matter:
    return ok(signed(), Resolve(matter_id="M1", actor=V1, at=later(minutes=2), result="ok"))[0]


def closed() -> Matter:
    return ok(resolved(), Close(matter_id="M1", actor=OPERATOR, at=later(minutes=3)))[0]


def merged() -> Matter:
    return ok(assigned(), Merge(matter_id="M1", actor=OPERATOR, at=later(minutes=3), into="M0"))[0]


def at(minutes: int = 10) -> datetime:
    return later(minutes=minutes)


CASES: list[tuple[str, object, Command, str]] = [
    # accept validation
    ("unknown category", None, accept(category="NOPE"), "unknown category"),
    ("unknown grid", None, accept(grid="G99"), "unknown grid"),
    ("unknown urgency", None, accept(urgency="panic"), "unknown urgency"),
    ("on-spot not patrol", None, accept(solved_on_spot=True), "patrol"),
    ("citizen accept", None, accept(actor=CITIZEN), "citizen cannot accept"),
    # unknown matter
    ("unknown matter", None, SignFor(matter_id="M1", actor=V1, at=at()), "unknown matter"),
    # order of the life cycle
    (
        "resolve before sign",
        assigned,
        Resolve(matter_id="M1", actor=V1, at=at(), result="x"),
        "signed-for",
    ),
    (
        "progress before sign",
        assigned,
        AddProgress(matter_id="M1", actor=V1, at=at(), note="x"),
        "sign for it first",
    ),
    ("sign twice", signed, SignFor(matter_id="M1", actor=V1, at=at()), "only an assigned"),
    ("close unresolved", signed, Close(matter_id="M1", actor=OPERATOR, at=at()), "only a resolved"),
    (
        "rate unresolved",
        signed,
        Rate(matter_id="M1", actor=CITIZEN, at=at(), rating="satisfied"),
        "only a resolved or closed",
    ),
    (
        "reopen open",
        signed,
        Reopen(matter_id="M1", actor=OPERATOR, at=at(), reason="x"),
        "only a resolved or closed",
    ),
    ("urge resolved", resolved, Urge(matter_id="M1", actor=SUPERVISOR, at=at()), "resolved"),
    (
        "return resolved",
        resolved,
        Return(matter_id="M1", actor=V1, at=at(), reason="x"),
        "resolved",
    ),
    # empty texts
    ("empty note", signed, AddProgress(matter_id="M1", actor=V1, at=at(), note="  "), "empty"),
    ("empty result", signed, Resolve(matter_id="M1", actor=V1, at=at(), result=""), "result"),
    (
        "empty return reason",
        assigned,
        Return(matter_id="M1", actor=V1, at=at(), reason=""),
        "reason",
    ),
    (
        "empty report-up reason",
        assigned,
        ReportUp(matter_id="M1", actor=V1, at=at(), reason=""),
        "reason",
    ),
    (
        "empty reopen reason",
        resolved,
        Reopen(matter_id="M1", actor=OPERATOR, at=at(), reason=""),
        "reason",
    ),
    # who may act
    (
        "other village",
        assigned,
        SignFor(matter_id="M1", actor=village("V2"), at=at()),
        "does not hold",
    ),
    (
        "department not holding",
        assigned,
        SignFor(matter_id="M1", actor=dept("URBAN"), at=at()),
        "does not hold",
    ),
    ("auditor", assigned, Urge(matter_id="M1", actor=AUDITOR, at=at()), "auditors"),
    (
        "village cannot forward",
        assigned,
        Forward(matter_id="M1", actor=V1, at=at(), departments=("URBAN",)),
        "cannot forward",
    ),
    (
        "citizen cannot close",
        resolved,
        Close(matter_id="M1", actor=CITIZEN, at=at()),
        "cannot close",
    ),
    (
        "township assigns elsewhere",
        assigned,
        Assign(
            matter_id="M1", actor=township("T2"), at=at(), owner=Owner(kind="village", code="V3")
        ),
        "only a city operator",
    ),
    (
        "village cannot assign",
        assigned,
        Assign(matter_id="M1", actor=V1, at=at(), owner=Owner(kind="village", code="V2")),
        "only a city operator",
    ),
    (
        "other township whistles",
        assigned,
        Whistle(matter_id="M1", actor=township("T2"), at=at(), departments=("URBAN",)),
        "township T1",
    ),
    (
        "other township urges",
        assigned,
        Urge(matter_id="M1", actor=township("T2"), at=at()),
        "cannot urge",
    ),
    (
        "department supervises",
        assigned,
        Supervise(matter_id="M1", actor=dept("URBAN"), at=at()),
        "cannot supervise",
    ),
    (
        "report in for another dept",
        assigned,
        ReportIn(matter_id="M1", actor=dept("URBAN"), at=at(), department="WATER"),
        "only department WATER",
    ),
    (
        "grid worker of another grid",
        signed,
        AddProgress(matter_id="M1", actor=worker("G2"), at=at(), note="x"),
        "does not hold",
    ),
    (
        "decide extension by owner",
        signed,
        DecideExtension(matter_id="M1", actor=V1, at=at(), approve=True),
        "cannot decide",
    ),
    (
        "timer from a person",
        assigned,
        DeadlineDue(
            matter_id="M1",
            actor=OPERATOR,
            at=at(),
            warning_id="x",
            level="red",
            kind="resolve",
            generation=1,
        ),
        "timer service",
    ),
    # closed and merged
    ("closed: sign", closed, SignFor(matter_id="M1", actor=V1, at=at()), "closed"),
    ("closed: close", closed, Close(matter_id="M1", actor=OPERATOR, at=at()), "closed"),
    ("closed: urge", closed, Urge(matter_id="M1", actor=OPERATOR, at=at()), "closed"),
    (
        "merged: reopen",
        merged,
        Reopen(matter_id="M1", actor=OPERATOR, at=at(), reason="x"),
        "merged into M0",
    ),
    ("merged: sign", merged, SignFor(matter_id="M1", actor=V1, at=at()), "merged into M0"),
    # assignment targets
    (
        "assign unknown owner",
        assigned,
        Assign(matter_id="M1", actor=OPERATOR, at=at(), owner=Owner(kind="village", code="X")),
        "unknown owner",
    ),
    (
        "assign to holder",
        assigned,
        Assign(matter_id="M1", actor=OPERATOR, at=at(), owner=Owner(kind="village", code="V1")),
        "already held",
    ),
    (
        "forward none",
        assigned,
        Forward(matter_id="M1", actor=OPERATOR, at=at(), departments=()),
        "at least one",
    ),
    (
        "forward unknown",
        assigned,
        Forward(matter_id="M1", actor=OPERATOR, at=at(), departments=("NOPE",)),
        "unknown department",
    ),
    (
        "merge into itself",
        assigned,
        Merge(matter_id="M1", actor=OPERATOR, at=at(), into="M1"),
        "another matter",
    ),
    (
        "merge resolved",
        resolved,
        Merge(matter_id="M1", actor=OPERATOR, at=at(), into="M0"),
        "cannot merge",
    ),
    # extension rules
    (
        "extension before sign",
        assigned,
        RequestExtension(
            matter_id="M1", actor=V1, at=at(), reason="x", proposed_due=later(days=30)
        ),
        "signed-for",
    ),
    (
        "extension earlier",
        signed,
        RequestExtension(matter_id="M1", actor=V1, at=at(), reason="x", proposed_due=later(days=1)),
        "later than the current",
    ),
    (
        "extension without reason",
        signed,
        RequestExtension(matter_id="M1", actor=V1, at=at(), reason="", proposed_due=later(days=30)),
        "reason",
    ),
    (
        "decide nothing pending",
        signed,
        DecideExtension(matter_id="M1", actor=SUPERVISOR, at=at(), approve=True),
        "no extension",
    ),
    # whistles and report-ins
    (
        "whistle nobody",
        assigned,
        Whistle(matter_id="M1", actor=OPERATOR, at=at(), departments=()),
        "one or more",
    ),
    (
        "whistle unknown",
        assigned,
        Whistle(matter_id="M1", actor=OPERATOR, at=at(), departments=("NOPE",)),
        "unknown",
    ),
    (
        "whistle past due",
        assigned,
        Whistle(matter_id="M1", actor=OPERATOR, at=at(), departments=("URBAN",), report_in_due=T0),
        "future",
    ),
    (
        "report in unsummoned",
        assigned,
        ReportIn(matter_id="M1", actor=dept("URBAN"), at=at(), department="URBAN"),
        "not summoned",
    ),
    # the top of the ladder
    (
        "escalate with no input",
        resolved,
        EscalateToLeader(matter_id="M1", actor=LEADER, at=at()),
        "resolved",
    ),
]


@pytest.mark.parametrize(("name", "make", "command", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_rejected(name: str, make: object, command: Command, fragment: str) -> None:
    state = make() if callable(make) else None
    reason = rejected(state, command)
    assert fragment in reason, reason


def test_rejection_event_fields() -> None:
    m = assigned()
    new, events = apply(
        m, Resolve(matter_id="M1", actor=V1, at=at(), result="x", command_id="c1"), CTX
    )
    assert new is m
    (r,) = events
    assert isinstance(r, Rejected)
    assert (r.command_type, r.before_state, r.after_state, r.version) == (
        "resolve",
        "assigned",
        "assigned",
        1,
    )
    assert r.command_id == "c1" and r.matter_id == "M1"
    assert r.event_id == "M1:1:rejected:resolve:c1"
    assert r.to_dict()["type"] == "rejected"


def test_naive_datetime_is_rejected() -> None:
    m = assigned()
    reason = rejected(m, SignFor(matter_id="M1", actor=V1, at=datetime(2025, 6, 3, 9)))
    assert "time-zone" in reason


def test_state_of_other_matter_is_rejected() -> None:
    m = assigned()
    assert "state is of matter M1" in rejected(m, SignFor(matter_id="M2", actor=V1, at=at()))


def test_double_pending_extension_rejected() -> None:
    m = signed()
    due = m.deadlines["resolve"].due_at
    m, _ = ok(
        m,
        RequestExtension(
            matter_id="M1", actor=V1, at=at(), reason="x", proposed_due=due + timedelta(days=1)
        ),
    )
    reason = rejected(
        m,
        RequestExtension(
            matter_id="M1", actor=V1, at=at(11), reason="x", proposed_due=due + timedelta(days=2)
        ),
    )
    assert "already pending" in reason


def test_approval_after_proposed_due_passed_is_rejected() -> None:
    m = signed()
    due = m.deadlines["resolve"].due_at
    m, _ = ok(
        m,
        RequestExtension(
            matter_id="M1", actor=V1, at=at(), reason="x", proposed_due=due + timedelta(hours=1)
        ),
    )
    reason = rejected(
        m,
        DecideExtension(
            matter_id="M1", actor=SUPERVISOR, at=due + timedelta(hours=2), approve=True
        ),
    )
    assert "already passed" in reason


def test_rating_twice_rejected() -> None:
    m, _ = ok(closed(), Rate(matter_id="M1", actor=CITIZEN, at=at(20), rating="satisfied"))
    assert "already been rated" in rejected(
        m, Rate(matter_id="M1", actor=CITIZEN, at=at(21), rating="not_satisfied")
    )


def test_supervise_twice_and_leader_escalation_twice() -> None:
    m, _ = ok(assigned(), Supervise(matter_id="M1", actor=SUPERVISOR, at=at()))
    assert "already under supervision" in rejected(
        m, Supervise(matter_id="M1", actor=LEADER, at=at(11))
    )
    m, _ = ok(m, EscalateToLeader(matter_id="M1", actor=SUPERVISOR, at=at(12)))
    assert "already holds" in rejected(
        m, EscalateToLeader(matter_id="M1", actor=SUPERVISOR, at=at(13))
    )
    m, _ = ok(m, SignFor(matter_id="M1", actor=LEADER, at=at(14)))
    assert "top tier" in rejected(m, ReportUp(matter_id="M1", actor=LEADER, at=at(15), reason="x"))


def test_city_cannot_return() -> None:
    m, _ = ok(None, accept(category="PERMIT"))
    assert "cannot return" in rejected(
        m, Return(matter_id="M1", actor=OPERATOR, at=at(), reason="x")
    )


def test_summoned_twice_and_reported_twice() -> None:
    m, _ = ok(
        assigned(), Whistle(matter_id="M1", actor=township("T1"), at=at(), departments=("URBAN",))
    )
    assert "already summoned" in rejected(
        m, Whistle(matter_id="M1", actor=township("T1"), at=at(11), departments=("URBAN",))
    )
    m, _ = ok(m, ReportIn(matter_id="M1", actor=dept("URBAN"), at=at(12), department="URBAN"))
    assert "already reported" in rejected(
        m, ReportIn(matter_id="M1", actor=dept("URBAN"), at=at(13), department="URBAN")
    )


def test_forward_to_current_holder_rejected() -> None:
    m, _ = run(None, accept(category="WATER"))
    assert m is not None
    assert "already held" in rejected(
        m, Forward(matter_id="M1", actor=OPERATOR, at=at(), departments=("WATER", "URBAN"))
    )


def _extension_requested() -> Matter:
    m = signed()
    due = m.deadlines["resolve"].due_at
    m, _ = ok(
        m,
        RequestExtension(
            matter_id="M1", actor=V1, at=at(), reason="x", proposed_due=due + timedelta(days=2)
        ),
    )
    return m


def test_the_township_above_decides_an_extension_of_its_village() -> None:
    before = _extension_requested()
    assert before.extension is not None
    m, _ = ok(before, DecideExtension(matter_id="M1", actor=township("T1"), at=at(1), approve=True))
    assert m.extension is None
    assert m.deadlines["resolve"].due_at == before.extension.proposed_due
    assert "cannot decide extensions outside its area" in rejected(
        _extension_requested(),
        DecideExtension(matter_id="M1", actor=township("T2"), at=at(1), approve=True),
    )


def test_a_city_operator_may_put_a_matter_under_supervision() -> None:
    m, _ = ok(assigned(), Supervise(matter_id="M1", actor=OPERATOR, at=at()))
    assert m.supervised

"""Property tests: any sequence of commands keeps the matter's invariants.

* ``apply`` never raises, and never hides a bug as an "internal error" rejection;
* a matter always has exactly one owner, and that owner exists in the city;
* deadlines set by a command are never in the past at that moment;
* closed is final unless reopened; merged is final;
* the version goes up by one exactly for applied commands;
* events chain before/after states from the old state to the new one;
* KPI counters kept from events agree with the states themselves.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gridhub.domain import commands as c
from gridhub.domain.events import Event, Rejected, Reopened, event_from_dict
from gridhub.domain.kpis import Kpis, kpi_deltas
from gridhub.domain.machine import apply, pending_timers, pending_timers_after, timer_command
from gridhub.domain.matter import Matter, Owner, State, matter_from_dict
from gridhub.domain.routing import owner_exists

from .support import (
    AUDITOR,
    CITIZEN,
    CITY,
    CTX,
    LEADER,
    OPERATOR,
    SUPERVISOR,
    SYSTEM,
    T0,
    accept,
    dept,
    township,
    village,
    worker,
)

IDS = ("M1", "M2")
HOLDER = c.Actor(user_id="__holder__", role="system")  # replaced by the matter's holder
ACTORS = (
    HOLDER,
    HOLDER,
    HOLDER,
    HOLDER,
    HOLDER,
    HOLDER,
    SYSTEM,
    OPERATOR,
    SUPERVISOR,
    LEADER,
    AUDITOR,
    CITIZEN,
    village("V1"),
    village("V2"),
    village("V3"),
    township("T1"),
    township("T2"),
    dept("URBAN"),
    dept("WATER"),
    dept("JUSTICE"),
    worker("G1"),
)
OWNERS = (
    Owner(kind="village", code="V1"),
    Owner(kind="village", code="V3"),
    Owner(kind="township", code="T1"),
    Owner(kind="city", code="C1"),
    Owner(kind="department", code="WATER"),
    Owner(kind="leader", code="C1"),
    Owner(kind="village", code="NOPE"),
)
DEPTS = st.lists(st.sampled_from(("URBAN", "WATER", "JUSTICE", "NOPE")), max_size=3).map(tuple)
TEXT = st.sampled_from(("", "  ", "note", "reason"))


OFFSET = st.integers(-3, 20)  # days from the command's time, for proposed deadlines
Spec = tuple[str, dict[str, Any]]


def spec(name: str, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Spec]:
    return st.tuples(
        st.just(name), st.fixed_dictionaries({"actor": st.sampled_from(ACTORS), **fields})
    )


# Built once: drawing a spec is cheap; ``build`` turns it into a command for (matter, time).
ACCEPT_SPEC: st.SearchStrategy[Spec] = st.tuples(
    st.just("accept"),
    st.fixed_dictionaries(
        {
            "category": st.sampled_from((*CITY.categories, "NOPE")),
            "grid": st.sampled_from((*CITY.grids,)),
            "urgency": st.sampled_from(("normal", "urgent")),
            "source": st.sampled_from(("app", "patrol")),
            "solved_on_spot": st.booleans(),
            "actor": st.sampled_from((SYSTEM, OPERATOR, worker("G1"), CITIZEN)),
        }
    ),
)
SPECS: st.SearchStrategy[Spec] = st.one_of(
    ACCEPT_SPEC,
    spec("sign_for"),
    spec("resolve", result=TEXT),
    spec("add_progress", note=TEXT),
    spec("assign", owner=st.sampled_from(OWNERS)),
    spec("forward", departments=DEPTS),
    spec("sign_for"),
    spec("add_progress", note=TEXT),
    spec("resolve", result=TEXT),
    spec("return", reason=TEXT),
    spec("report_up", reason=TEXT),
    spec("request_extension", reason=TEXT, proposed_due=OFFSET),
    spec("decide_extension", approve=st.booleans()),
    spec("rate", rating=st.sampled_from(("satisfied", "basically_satisfied", "not_satisfied"))),
    spec("close"),
    spec("reopen", reason=TEXT),
    spec("merge", into=st.sampled_from(("M1", "M2", ""))),
    spec("urge"),
    spec("supervise"),
    spec("escalate_to_leader"),
    spec("whistle", departments=DEPTS, report_in_due=st.none() | OFFSET),
    spec("report_in", department=st.sampled_from(("URBAN", "WATER", "NOPE"))),
)


def holder_of(m: Matter | None) -> c.Actor:
    if m is None:
        return OPERATOR
    code = m.owner.code
    return {
        "village": village(code),
        "township": township(code),
        "city": OPERATOR,
        "department": dept(code),
        "leader": LEADER,
    }[m.owner.kind]


def build(s: Spec, mid: str, at: datetime, state: Matter | None) -> c.Command:
    name, fields = s
    fields = dict(fields)
    if fields["actor"] is HOLDER:
        fields["actor"] = holder_of(state)
    for key in ("proposed_due", "report_in_due"):
        if isinstance(fields.get(key), int):
            fields[key] = at + timedelta(days=fields[key])
    if name == "accept":
        return accept(mid, at=at, **fields)
    return c.COMMAND_TYPES[name](matter_id=mid, at=at, **fields)


def check_step(old: Matter | None, cmd: c.Command, new: Matter | None, events: list[Event]) -> None:
    rejections = [e for e in events if isinstance(e, Rejected)]
    for r in rejections:
        assert "internal error" not in r.reason, r.reason
    applied = bool(events) and not rejections
    if rejections:
        assert len(events) == 1
    if not applied:
        assert new is old  # rejected or idempotent no-op: nothing changes
        return
    assert new is not None
    # exactly one owner, and a real one
    assert isinstance(new.owner, Owner) and owner_exists(new.owner, CITY)
    # version: +1 per applied command, 1 at creation
    assert new.version == (old.version + 1 if old else 1)
    assert all(e.version == new.version for e in events)
    # events chain the states
    assert events[0].before_state == (old.state.value if old else "")
    for a, b in itertools.pairwise(events):
        assert b.before_state == a.after_state
    assert events[-1].after_state == new.state.value
    # deadlines set by this command are not in the past
    for e in events:
        for due in getattr(e, "deadlines", {}).values():
            assert due > cmd.at
    if old is not None:
        for kind, d in new.deadlines.items():
            if old.deadlines.get(kind) != d:
                assert d.due_at > cmd.at
    # closed is final unless reopened; merged is final
    if old is not None and old.state == State.CLOSED and new.state != State.CLOSED:
        assert any(isinstance(e, Reopened) for e in events)
    if old is not None:
        assert old.state != State.MERGED


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_command_sequences_keep_invariants(data: st.DataObject) -> None:
    states: dict[str, Matter | None] = dict.fromkeys(IDS)
    totals = Kpis()
    at = T0
    for _ in range(data.draw(st.integers(1, 40), label="steps")):
        at += timedelta(minutes=data.draw(st.sampled_from((0, 1, 30, 600, 3000)), label="dt"))
        mid = data.draw(st.sampled_from(IDS), label="matter")
        old = states[mid]
        timers = pending_timers(old, CTX)
        if timers and data.draw(st.integers(0, 4), label="tick?") == 0:
            w = data.draw(st.sampled_from(timers), label="timer")
            at = max(at, w.due_at)
            cmd: c.Command = timer_command(w, at)
        elif old is None and data.draw(st.integers(0, 3), label="accept?") > 0:
            cmd = build(data.draw(ACCEPT_SPEC, label="accept"), mid, at, old)
        else:
            cmd = build(data.draw(SPECS, label="command"), mid, at, old)
        new, events = apply(old, cmd, CTX)
        check_step(old, cmd, new, events)
        assert pending_timers_after(old, timers, new, CTX) == pending_timers(new, CTX)
        states[mid] = new
        for e in events:
            event(e.type)
            assert event_from_dict(e.to_dict()) == e
            totals = totals.add(Kpis.from_deltas(kpi_deltas(e)))
    present = [m for m in states.values() if m is not None]
    assert totals.accepted == sum(m.state != State.MERGED for m in present)
    assert totals.resolved == sum(m.state == State.RESOLVED for m in present)
    assert totals.closed == sum(m.state == State.CLOSED for m in present)
    assert 0 <= totals.on_time <= totals.completed
    for m in present:
        assert matter_from_dict(m.to_dict()) == m


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_timer_ticks_are_idempotent(data: st.DataObject) -> None:
    state, _ = apply(
        None, accept(category=data.draw(st.sampled_from(("ROAD", "TEST-FAST", "WATER")))), CTX
    )
    assert state is not None
    for _ in range(data.draw(st.integers(1, 12))):
        timers = pending_timers(state, CTX)
        if not timers:
            break
        w = data.draw(st.sampled_from(timers))
        tick = timer_command(w, w.due_at)
        once, events = apply(state, tick, CTX)
        assert events and events[0].type == "warning"
        assert pending_timers_after(state, timers, once, CTX) == pending_timers(once, CTX)
        twice, again = apply(once, tick, CTX)
        assert again == [] and twice is once
        state = once

"""The 三率 on hand-computed figures, maintained incrementally from events."""

from __future__ import annotations

from gridhub.domain import events as ev
from gridhub.domain.commands import Merge, Rate, Resolve, SignFor
from gridhub.domain.kpis import Kpis, kpi_deltas
from gridhub.domain.machine import pending_timers, timer_command

from .support import CTX, OPERATOR, accept, later, ok, run, village

V1 = village("V1")


def lifecycle(mid: str, resolve_after_days: float, rating: str | None) -> list[ev.Event]:
    commands = [
        accept(mid),
        SignFor(matter_id=mid, actor=V1, at=later(minutes=1)),
        Resolve(matter_id=mid, actor=V1, at=later(days=resolve_after_days), result="ok"),
    ]
    if rating:
        commands.append(
            Rate(matter_id=mid, actor=OPERATOR, at=later(days=6), rating=rating)  # type: ignore[arg-type]
        )
    _, events = run(None, *commands)
    return events


def all_events() -> list[ev.Event]:
    out: list[ev.Event] = []
    out += lifecycle("M1", 1, "satisfied")  # on time, closed
    out += lifecycle("M2", 5, "basically_satisfied")  # late, closed
    out += lifecycle("M3", 1, "not_satisfied")  # on time, then reopened: not completed
    m4, e4 = ok(None, accept("M4"))
    red = next(w for w in pending_timers(m4, CTX) if w.kind == "resolve" and w.level == "red")
    _, e4b = ok(m4, timer_command(red, red.due_at))  # overdue, still open
    out += e4 + e4b
    out += ok(None, accept("M5", source="patrol", solved_on_spot=True))[1]  # closed on spot
    m6, e6 = ok(None, accept("M6"))
    out += e6 + ok(m6, Merge(matter_id="M6", actor=OPERATOR, at=later(hours=1), into="M1"))[1]
    rejected = run(None, Resolve(matter_id="M9", actor=V1, at=later(), result="x"))[1]
    return out + rejected


def test_rates_on_hand_computed_figures() -> None:
    total = Kpis()
    for event in all_events():
        total = total.add(Kpis.from_deltas(kpi_deltas(event)))
    assert total.accepted == 5  # M1..M6 minus the merged duplicate
    assert (total.resolved, total.closed, total.completed) == (0, 3, 3)  # M1, M2, M5
    assert total.on_time == 2  # M1, M5 (M2 was late, M3 was reopened)
    assert total.overdue == 1  # M4
    assert (total.rated, total.satisfied, total.basically_satisfied, total.not_satisfied) == (
        3,
        1,
        1,
        1,
    )
    assert total.completion_rate == 3 / 5
    assert total.on_time_rate == 2 / 3
    assert total.satisfaction_rate == 2 / 3
    assert total.rates() == {
        "completion_rate": 0.6,
        "on_time_rate": 2 / 3,
        "satisfaction_rate": 2 / 3,
    }


def test_empty_rates_are_none() -> None:
    assert Kpis().rates() == {
        "completion_rate": None,
        "on_time_rate": None,
        "satisfaction_rate": None,
    }


def test_add_merges_slices() -> None:
    a = Kpis(accepted=3, resolved=1, closed=1, on_time=2, rated=2, satisfied=1)
    b = Kpis(accepted=1, closed=1, on_time=1, rated=1, not_satisfied=1)
    c = a.add(b)
    assert (c.accepted, c.completed, c.on_time, c.rated) == (4, 3, 3, 3)
    assert c.completion_rate == 0.75 and c.satisfaction_rate == 1 / 3


def test_deltas_of_single_events() -> None:
    events = lifecycle("M1", 1, "satisfied")
    deltas = [kpi_deltas(e) for e in events]
    assert deltas == [
        {"accepted": 1},  # accepted
        {},  # assigned
        {},  # signed for
        {"resolved": 1, "on_time": 1},  # resolved
        {"rated": 1, "satisfied": 1},  # rated
        {"resolved": -1, "closed": 1},  # closed
    ]


def test_reopen_takes_completion_back() -> None:
    events = lifecycle("M3", 1, "not_satisfied")
    reopened = events[-1]
    assert isinstance(reopened, ev.Reopened)
    assert kpi_deltas(reopened) == {"resolved": -1, "on_time": -1}

"""Pure tests of the simulator's scenarios and plans: exact replay totals at any scale,
determinism, proportions, and scripts the domain accepts step by step."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.channels.citizen_app import Submission
from connectors.channels.hotline import CallRecord
from connectors.channels.patrol import PatrolReport
from gridhub.citydata import load_city
from gridhub.domain import commands as c
from gridhub.domain.context import Context
from gridhub.domain.events import Rejected
from gridhub.domain.hierarchy import City
from gridhub.domain.kpis import Kpis
from gridhub.domain.machine import apply
from gridhub.domain.matter import COMPLETED_STATES, Matter, Owner
from gridhub.intake import Source
from gridhub.settings import DEFAULT_CITY_FILE
from gridhub.simulate.actors import intake_request
from gridhub.simulate.plan import MatterPlan, Planner, Step, arrival_times, expected_totals
from gridhub.simulate.report import Totals, months_between
from gridhub.simulate.scenario import (
    Scenario,
    ScenarioError,
    available,
    load_scenario,
    scaled_totals,
)

REPLAY = "shulan-2021-2022"


@pytest.fixture(scope="module")
def city() -> City:
    return load_city(DEFAULT_CITY_FILE)


@pytest.fixture(scope="module")
def replay() -> Scenario:
    return load_scenario(REPLAY)


@pytest.fixture(scope="module")
def full_plan(replay: Scenario, city: City) -> list[MatterPlan]:
    return Planner(replay, city, "t").replay()


def test_bundled_scenarios_load() -> None:
    assert {"default", REPLAY} <= set(available())
    for name in available():
        load_scenario(name)


def test_replay_scenario_holds_the_seed_figures(replay: Scenario) -> None:
    totals = replay.totals
    assert totals is not None
    assert sum(t.accepted for t in totals.values()) == 14_555
    assert sum(t.completed for t in totals.values()) == 14_466
    assert totals["livelihood"].accepted == 4_827
    assert (totals["dispute"].accepted, totals["dispute"].completed) == (2_207, 2_198)
    assert totals["enterprise"].completed == 585
    by_label = {(f.counter, f.group): f.value for f in replay.figures}
    assert by_label[("accepted", None)] == 14_555
    assert by_label[("completed", None)] == 14_466


def test_full_replay_plan_has_exact_totals(full_plan: list[MatterPlan], replay: Scenario) -> None:
    assert replay.totals is not None
    got = expected_totals(full_plan)
    assert got == {g: (t.accepted, t.completed) for g, t in replay.totals.items()}
    assert len({p.source_id for p in full_plan}) == len(full_plan)


@pytest.mark.parametrize("scale", [1 / 50, 1 / 7, 0.3, 1 / 1000])
def test_scaled_replay_plan_has_the_scaled_totals(
    replay: Scenario, city: City, scale: float
) -> None:
    assert replay.totals is not None
    plans = Planner(replay, city, "t").replay(scale)
    want = scaled_totals(replay.totals, scale)
    assert expected_totals(plans) == {g: (t.accepted, t.completed) for g, t in want.items()}
    for group, t in replay.totals.items():  # open matters survive the scaling
        if t.accepted > t.completed:
            assert want[group].accepted > want[group].completed


def test_plan_is_deterministic(replay: Scenario, city: City) -> None:
    a = Planner(replay, city, "t").replay(1 / 50)
    b = Planner(replay, city, "t").replay(1 / 50)
    other = Planner(replay, city, "t").replay(1 / 50, seed=1)
    assert a == b
    assert a != other


def test_receipts_lie_in_the_period_and_follow_the_week(
    full_plan: list[MatterPlan], replay: Scenario
) -> None:
    start, end = replay.time.start, replay.time.end
    assert start is not None and end is not None
    assert all(start <= p.received < end for p in full_plan)
    assert [p.received for p in full_plan] == sorted(p.received for p in full_plan)
    days = Counter(p.received.weekday() for p in full_plan)
    assert days[0] > days[6] * 1.5  # Monday busier than Sunday (weights 10 vs 5)
    hours = Counter(p.received.hour for p in full_plan)
    assert hours[10] > hours[3] * 10


def test_open_matters_are_the_latest_and_never_grid_solved(full_plan: list[MatterPlan]) -> None:
    for group in {p.group for p in full_plan}:
        mine = [p for p in full_plan if p.group == group]
        open_ = [p for p in mine if not p.completes]
        if open_:
            assert min(p.received for p in open_) >= max(p.received for p in mine if p.completes)
    for p in full_plan:
        actions = [s.action for s in p.steps]
        if p.solver == "grid":
            assert p.source == Source.PATROL and p.solved_on_spot and not p.steps
        elif p.completes:
            assert "resolve" in actions
        else:
            assert "resolve" not in actions and "rate" not in actions


def test_live_draws_follow_the_configured_proportions(city: City) -> None:
    sc = load_scenario("default")
    planner = Planner(sc, city, "t")
    rng = random.Random(5)
    now = datetime(2026, 3, 2, 10, tzinfo=UTC)
    plans = [planner.draw(rng, i, now) for i in range(20_000)]
    n = len(plans)
    solvers = Counter(p.solver for p in plans)
    for solver in ("grid", "village", "township", "department"):
        want = sc.solver_share(solver) * sc.completion if solver == "grid" else None
        if want is not None:
            assert abs(solvers[solver] / n - want) < 0.015
    channels = Counter(p.source for p in plans)
    for source in sc.channels:
        assert abs(channels[source] / n - sc.channel_share(source)) < 0.02, source
    groups = Counter(p.group for p in plans)
    total = sum(sc.groups.values())
    for group, weight in sc.groups.items():
        assert abs(groups[group] / n - weight / total) < 0.015, group
    assert abs(sum(p.completes for p in plans) / n - sc.completion) < 0.01
    urgent = sum(p.urgency == "urgent" for p in plans) / n
    assert abs(urgent - sc.urgent_share) < 0.01


def test_late_departments_get_urged(full_plan: list[MatterPlan], replay: Scenario) -> None:
    late = set(replay.actors.late_departments)
    urged = [
        p
        for p in full_plan
        if any(s.action == "urge" for s in p.steps)
        and any(s.role == "department" and s.code in late for s in p.steps)
    ]
    assert urged
    actions = Counter(s.action for p in full_plan for s in p.steps)
    for action in ("whistle", "report_in", "return", "report_up", "extension_request", "one_click"):
        assert actions[action] > 0, action


# ---- the scripts against the pure domain ------------------------------------------------

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _actor(step: Step) -> c.Actor:
    kind = {"village_hub": "village", "township_hub": "township", "department": "department"}
    if step.action == "rate":
        return c.Actor(user_id="citizen", role="citizen", scope_kind="none")
    scope = kind.get(step.role, "city")
    return c.Actor(user_id="sim", role=step.role, scope_kind=scope, scope_code=step.code)  # type: ignore[arg-type]


def _command(step: Step, matter: Matter, at: datetime) -> c.Command | None:
    base = {"matter_id": matter.id, "actor": _actor(step), "at": at}
    a = step.args
    match step.action:
        case "sign_for":
            return c.SignFor(**base)
        case "progress":
            return c.AddProgress(**base, note=a["note"])
        case "resolve":
            return c.Resolve(**base, result=a["result"])
        case "report_up":
            return c.ReportUp(**base, reason=a["reason"])
        case "return":
            return c.Return(**base, reason=a["reason"])
        case "assign":
            return c.Assign(**base, owner=Owner(kind=a["kind"], code=a["code"]))
        case "forward":
            return c.Forward(**base, departments=tuple(a["departments"]))
        case "whistle":
            return c.Whistle(**base, departments=tuple(a["departments"]))
        case "report_in":
            return c.ReportIn(**base, department=step.code)
        case "extension_request":
            due = matter.deadlines["resolve"].due_at + timedelta(days=a["days"])
            return c.RequestExtension(**base, reason=a["reason"], proposed_due=due)
        case "extension_decision":
            return c.DecideExtension(**base, approve=a["approve"])
        case "urge":
            return c.Urge(**base)
        case "supervise":
            return c.Supervise(**base)
        case "close":
            return c.Close(**base)
        case "rate":
            return c.Rate(**base, rating=a["rating"])
    return None  # one_click / ack are not matter commands


def test_every_script_is_accepted_by_the_domain(
    replay: Scenario, city: City, full_plan: list[MatterPlan]
) -> None:
    """Each step of each script, applied with the real state machine, is never rejected
    and leaves the matter completed exactly when the plan says so."""
    ctx = Context(city)
    for plan in full_plan[::7]:
        accept = c.Accept(
            matter_id=f"M{plan.seq}",
            actor=c.SYSTEM,
            at=T0,
            source=plan.source.value,
            source_id=plan.source_id,
            received_at=T0,
            category=plan.category,
            grid=plan.grid,
            description="x",
            urgency=plan.urgency,
            solved_on_spot=plan.solved_on_spot,
            result="done" if plan.solved_on_spot else None,
        )
        state, _ = apply(None, accept, ctx)
        assert state is not None
        for step in plan.steps:
            command = _command(step, state, T0 + timedelta(seconds=step.at))
            if command is None:
                continue
            state, events = apply(state, command, ctx)
            assert state is not None
            rejected = [e for e in events if isinstance(e, Rejected)]
            assert not rejected, (plan.category, plan.solver, step, rejected[0].reason)
        assert (state.state in COMPLETED_STATES) == plan.completes, plan


def test_intake_requests_match_the_channels_models(full_plan: list[MatterPlan]) -> None:
    models = {
        Source.HOTLINE_12345: CallRecord,
        Source.HOTLINE_BUSINESS: CallRecord,
        Source.APP: Submission,
        Source.PATROL: PatrolReport,
    }
    for plan in full_plan[:400]:
        path, body, form = intake_request(plan, dated=True)
        assert not form
        clean = {k: v for k, v in body.items() if v is not None}
        models[plan.source].model_validate(clean)
        assert path.startswith("/v1/")
    path, form_body, form = intake_request(replace(full_plan[0], source=Source.OPEN311), False)
    assert form and path.startswith("/open311/") and "call_time" not in form_body


# ---- scenario validation and report helpers -------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    base = Path(load_scenario.__code__.co_filename).parent / "scenarios" / "default.yaml"
    path.write_text(base.read_text(encoding="utf-8") + text, encoding="utf-8")
    return path


def test_scenario_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no scenario"):
        load_scenario("nope")
    bad_grid = _write(tmp_path, "solvers: {grid: 90, village: 10}\n")
    with pytest.raises(ScenarioError, match="grid-solved"):
        load_scenario(bad_grid)
    historic = _write(
        tmp_path,
        "time: {mode: historic, start: 2021-07-01T00:00:00+08:00,"
        " end: 2021-08-01T00:00:00+08:00}\n",
    )
    with pytest.raises(ScenarioError, match="open311"):
        load_scenario(historic)


def test_arrival_times_and_months() -> None:
    start = datetime(2021, 7, 1, tzinfo=UTC)
    times = arrival_times(
        random.Random(1), 500, start, start + timedelta(days=3), [1] * 24, [1] * 7
    )
    assert len(times) == 500 and times == sorted(times)
    assert months_between(datetime(2021, 11, 5).date(), datetime(2022, 2, 1).date()) == [
        "2021-11",
        "2021-12",
        "2022-01",
        "2022-02",
    ]


def test_totals_minus_baseline() -> None:
    after = Totals(Kpis(accepted=10, resolved=3, closed=4), {"dispute": Kpis(accepted=4)})
    before = Totals(Kpis(accepted=2, closed=1), {})
    run = after.minus(before)
    assert (run.value("accepted"), run.value("completed")) == (8, 6)
    assert run.value("accepted", "dispute") == 4

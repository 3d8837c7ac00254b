"""The matter plan (pure, deterministic from a seed): which matters arrive when, and the
script every other actor follows for each of them.

    planner = Planner(scenario, city, run_id="r1")
    plans = planner.replay(scale=1 / 50)           # exact group totals (historic scenarios)
    m = planner.draw(rng, seq=0, received=now)     # one matter (live mode)
    expected_totals(plans)                         # {"livelihood": (accepted, completed), ...}

A script is a list of :class:`Step` at offsets (simulated seconds after receipt), each done
by one actor through the public APIs. The hand-over path follows the domain's routing: the
matter starts where :func:`gridhub.domain.routing.route` puts it and goes up (上报) or
down (派单 / 退单) to the tier the plan chose to solve it (grid, village, township,
department). Each matter's description and reporter's name are drawn by
:mod:`gridhub.simulate.texts` (per category, in its channel's voice, naming its village).
Nothing here does I/O.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from gridhub.domain.hierarchy import Category, City
from gridhub.domain.routing import route
from gridhub.intake import Source
from gridhub.simulate.scenario import (
    SOLVERS,
    ActorBehaviour,
    Delay,
    Scenario,
    parse_duration,
    scaled_totals,
)
from gridhub.simulate.texts import Phrasebook

RANK = {"village": 0, "township": 1, "city": 2, "department": 3, "leader": 4}
HOLDER_ROLE = {
    "village": "village_hub",
    "township": "township_hub",
    "city": "city_operator",
    "department": "department",
    "leader": "leader",
}


@dataclass(frozen=True)
class Step:
    """One action of one actor: ``at`` simulated seconds after the matter was received."""

    at: float
    role: str
    code: str
    action: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MatterPlan:
    """One matter: what intake receives, who solves it, and the actors' script."""

    seq: int
    source: Source
    source_id: str
    category: str
    group: str
    urgency: str
    grid: str
    received: datetime
    solver: str
    completes: bool
    steps: tuple[Step, ...]
    worker_id: str | None = None
    #: what the reporter says (in the channel's voice) and the reporter's name
    text: str = ""
    reporter: str = ""

    @property
    def solved_on_spot(self) -> bool:
        """A patrol finding the grid worker solved at once (recorded resolved at the grid)."""
        return self.solver == "grid"


def _pick(rng: random.Random, weights: Mapping[Any, float]) -> Any:
    keys = [k for k, w in weights.items() if w > 0]
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def delay(rng: random.Random, d: Delay, factor: float = 1.0) -> float:
    """A log-normal draw of ``d`` in seconds, times ``factor``."""
    median = d.median_seconds
    value = median * math.exp(d.spread * rng.gauss(0.0, 1.0))
    return factor * min(max(value, median / 20), median * 20)


def arrival_times(
    rng: random.Random,
    count: int,
    start: datetime,
    end: datetime,
    daily: Sequence[float],
    weekly: Sequence[float],
) -> list[datetime]:
    """``count`` receipt times in [start, end), sorted, shaped by the weekday (Monday first)
    and hour-of-day weights in ``start``'s time zone."""
    days = max(1, math.ceil((end - start).total_seconds() / 86400))
    day_cum = list(accumulate(weekly[(start + timedelta(days=i)).weekday()] for i in range(days)))
    hour_cum = list(accumulate(daily))
    out: list[datetime] = []
    while len(out) < count:
        day = bisect(day_cum, rng.random() * day_cum[-1])
        hour = bisect(hour_cum, rng.random() * hour_cum[-1])
        base = (start + timedelta(days=day)).replace(hour=0, minute=0, second=0, microsecond=0)
        when = base + timedelta(hours=hour, seconds=rng.random() * 3600)
        if start <= when < end:
            out.append(when.replace(microsecond=0))
    return sorted(out)


def pattern_factor(scenario: Scenario, when: datetime) -> float:
    """How busy ``when`` is relative to the average (daily × weekly), at least 0.2."""
    daily = scenario.daily[when.hour] / (sum(scenario.daily) / 24)
    weekly = scenario.weekly[when.weekday()] / (sum(scenario.weekly) / 7)
    return max(0.2, daily * weekly)


class Planner:
    """Draws matters and their scripts for one scenario and city."""

    def __init__(self, scenario: Scenario, city: City, run_id: str) -> None:
        self.scenario = scenario
        self.city = city
        self.run_id = run_id
        self.by_group: dict[str, list[Category]] = {}
        for cat in city.categories.values():
            self.by_group.setdefault(cat.group, []).append(cat)
        self.grids = sorted(city.grids)
        self.words = Phrasebook(city)
        sc = scenario
        grid = sc.solver_share("grid")
        patrol = sc.channel_share(Source.PATROL)
        # non-grid matters: patrol keeps what the grid-solved ones did not use up
        self.other_channels = {
            s: (max(0.0, patrol - grid) if s == Source.PATROL else sc.channel_share(s))
            for s in sc.channels
        }

    # ---- one matter -------------------------------------------------------------------

    def draw(
        self,
        rng: random.Random,
        seq: int,
        received: datetime,
        group: str | None = None,
        completes: bool | None = None,
    ) -> MatterPlan:
        """One matter received at ``received``; ``group`` and ``completes`` drawn if None."""
        sc = self.scenario
        if group is None:
            group = _pick(rng, {g: w for g, w in sc.groups.items() if g in self.by_group})
        cats = self.by_group.get(group)
        if not cats:
            raise ValueError(f"the city has no category of group {group!r}")
        category = _pick(rng, {c.code: sc.categories.get(c.code, 1.0) for c in cats})
        if completes is None:
            completes = rng.random() < sc.completion
        solvers = {s: sc.solver_share(s) for s in SOLVERS}
        if not completes:
            solvers["grid"] = 0.0
        solver = _pick(rng, solvers)
        source = Source.PATROL if solver == "grid" else _pick(rng, self.other_channels)
        urgency = (
            "urgent"
            if "urgent" in self.city.urgencies and rng.random() < sc.urgent_share
            else "normal"
        )
        grid = rng.choice(self.grids)
        steps = (
            ()
            if solver == "grid"
            else tuple(self._script(rng, category, grid, urgency, solver, source, completes))
        )
        # the words draw from their own generator, seeded by one draw here: editing the
        # phrasebook changes texts only, never the rest of the plan
        words = random.Random(rng.getrandbits(64))
        text = self.words.compose(words, category, grid, source, urgency, solver == "grid")
        return MatterPlan(
            seq=seq,
            source=source,
            source_id=f"sim-{self.run_id}-{seq:06d}",
            category=category,
            group=group,
            urgency=urgency,
            grid=grid,
            received=received,
            solver=solver,
            completes=completes,
            steps=steps,
            worker_id=f"W-{grid}" if source == Source.PATROL else None,
            text=text,
            reporter=self.words.reporter(words, source),
        )

    # ---- a finite replay ----------------------------------------------------------------

    def replay(self, scale: float = 1.0, seed: int | None = None) -> list[MatterPlan]:
        """The whole plan of a scenario with ``totals``: exactly that many matters per group
        (at ``scale``), the latest ones of each group left open, sorted by receipt."""
        sc = self.scenario
        if sc.totals is None or sc.time.start is None or sc.time.end is None:
            raise ValueError(f"scenario {sc.name!r} has no totals and period to replay")
        rng = random.Random(sc.seed if seed is None else seed)
        totals = scaled_totals(sc.totals, scale)
        groups = [g for g, t in sorted(totals.items()) for _ in range(t.accepted)]
        rng.shuffle(groups)
        times = arrival_times(rng, len(groups), sc.time.start, sc.time.end, sc.daily, sc.weekly)
        seen: dict[str, int] = {}
        order: list[tuple[datetime, str, int]] = []
        for when, group in zip(times, groups, strict=True):
            order.append((when, group, seen.get(group, 0)))
            seen[group] = seen.get(group, 0) + 1
        plans = []
        for seq, (when, group, nth) in enumerate(order):
            completes = nth < totals[group].completed
            plans.append(self.draw(rng, seq, when, group=group, completes=completes))
        return plans

    # ---- the script -------------------------------------------------------------------

    def _behaviour(self, kind: str) -> ActorBehaviour:
        actors = self.scenario.actors
        return {
            "village": actors.village,
            "township": actors.township,
            "city": actors.city,
            "department": actors.department,
        }.get(kind, actors.city)

    def _late(self, kind: str, code: str) -> float:
        actors = self.scenario.actors
        return (
            actors.late_factor if kind == "department" and code in actors.late_departments else 1.0
        )

    def _script(
        self,
        rng: random.Random,
        code: str,
        grid: str,
        urgency: str,
        solver: str,
        source: Source,
        completes: bool,
    ) -> list[Step]:
        sc, city = self.scenario, self.city
        cat = city.categories[code]
        village, township = city.village_of_grid(grid), city.township_of_grid(grid)
        initial = route(cat, grid, city)
        kind: str = initial.kind
        unit: str = initial.code
        steps: list[Step] = []
        t = 0.0

        def add(at: float, role: str, who: str, action: str, **args: Any) -> None:
            steps.append(Step(round(at, 3), role, who, action, args))

        if urgency == "urgent" and rng.random() < sc.one_click_share:
            at = delay(rng, sc.actors.city.pass_on) / 4
            add(at, "city_operator", "", "one_click", target=township)
            add(at + delay(rng, sc.actors.ack), "township_hub", township, "ack")
        target = {"village": ("village", village), "township": ("township", township)}.get(solver)
        for _ in range(8):  # up or down the ladder until the solver's tier holds it
            if kind == solver:
                break
            beh, late = self._behaviour(kind), self._late(kind, unit)
            if kind == "city":
                t += delay(rng, beh.pass_on)
                if solver == "department":
                    depts = list(cat.departments[:3])
                    add(t, "city_operator", "", "forward", departments=depts)
                    kind, unit = "department", depts[0]
                else:
                    assert target is not None
                    add(t, "city_operator", "", "assign", kind=target[0], code=target[1])
                    kind, unit = target
            elif RANK[kind] < RANK[solver]:
                t += delay(rng, beh.sign_for, late)
                add(t, HOLDER_ROLE[kind], unit, "sign_for")
                t += delay(rng, beh.pass_on, late)
                add(t, HOLDER_ROLE[kind], unit, "report_up", reason="本级无力解决，上报")
                kind, unit = ("township", township) if kind == "village" else ("city", city.code)
            elif kind == "township" and solver == "village":
                t += delay(rng, beh.pass_on)
                add(t, "township_hub", township, "assign", kind="village", code=village)
                kind, unit = "village", village
            else:  # a department (or the leader) holds a matter of a lower tier: 退单
                t += delay(rng, beh.sign_for, late)
                add(t, HOLDER_ROLE[kind], unit, "sign_for")
                t += delay(rng, beh.pass_on, late)
                add(t, HOLDER_ROLE[kind], unit, "return", reason="属地事项，请转乡村办理")
                kind, unit = "city", city.code
        return self._handle(rng, steps, t, cat, kind, unit, village, township, source, completes)

    def _handle(
        self,
        rng: random.Random,
        steps: list[Step],
        t: float,
        cat: Category,
        kind: str,
        unit: str,
        village: str,
        township: str,
        source: Source,
        completes: bool,
    ) -> list[Step]:
        """The solver's part: sign for, (whistle, extension, urges), resolve, rating."""
        sc = self.scenario
        holder = HOLDER_ROLE[kind]
        beh, late = self._behaviour(kind), self._late(kind, unit)

        def add(at: float, role: str, who: str, action: str, **args: Any) -> None:
            steps.append(Step(round(at, 3), role, who, action, args))

        if kind == "department" and rng.random() < beh.failure_rate:
            t += delay(rng, beh.sign_for, late)
            add(t, holder, unit, "return", reason="非本部门职责")
            t += delay(rng, sc.actors.city.pass_on)
            add(t, "city_operator", "", "forward", departments=list(cat.departments[:3]))
        t += delay(rng, beh.sign_for, late)
        add(t, holder, unit, "sign_for")
        signed = t
        work = delay(rng, beh.work, late)
        if kind == "township" and rng.random() < sc.whistle_share:
            whistled = signed + delay(rng, beh.pass_on) / 4
            summoned = list(cat.departments[:2])
            add(whistled, "township_hub", unit, "whistle", departments=summoned)
            last = whistled
            for dept in summoned:
                late_dept = self._late("department", dept)
                at = whistled + delay(rng, sc.actors.report_in, late_dept)
                add(at, "department", dept, "report_in")
                last = max(last, at)
            work = max(work, last - signed + 600)
        add(signed + work / 2, holder, unit, "progress", note="正在办理")
        if kind != "department" and rng.random() < beh.failure_rate + beh.extension_rate:
            ask = signed + work / 3
            decided = ask + delay(rng, sc.actors.decide)
            if decided < signed + work - 60:
                add(ask, holder, unit, "extension_request", days=5, reason="需协调多方，申请延期")
                who = ("township_hub", township) if kind == "village" else ("supervisor", "")
                add(decided, who[0], who[1], "extension_decision", approve=True)
        for after, action in (
            (sc.actors.urge_after, "urge"),
            (sc.actors.supervise_after, "supervise"),
        ):
            if parse_duration(after) < work - 60:
                add(signed + parse_duration(after), "supervisor", "", action, note="请加快办理")
        if completes:
            self._finish(rng, add, signed + work, holder, unit, beh, late, source)
        return sorted(steps, key=lambda s: s.at)

    def _finish(
        self,
        rng: random.Random,
        add: Any,
        t: float,
        holder: str,
        unit: str,
        beh: ActorBehaviour,
        late: float,
        source: Source,
    ) -> None:
        """Resolve, then the citizen's rating (not satisfied: reopened, redone, re-rated) or
        the operator's closing of an unrated result."""
        r = self.scenario.ratings
        add(t, holder, unit, "resolve", result="已办结：问题已处理")
        if source != Source.PATROL and rng.random() < r.share:
            weights = {
                "satisfied": r.satisfied,
                "basically_satisfied": r.basically_satisfied,
                "not_satisfied": r.not_satisfied,
            }
            rating = _pick(rng, weights)
            t += delay(rng, r.delay)
            add(t, holder, unit, "rate", rating=rating)
            if rating == "not_satisfied":  # the domain reopens it to the same holder
                t += delay(rng, beh.sign_for, late)
                add(t, holder, unit, "sign_for")
                t += delay(rng, beh.work, late) / 3
                add(t, holder, unit, "resolve", result="已重新办理")
                t += delay(rng, r.delay)
                add(t, holder, unit, "rate", rating="satisfied")
        elif rng.random() < r.close_unrated:
            add(
                t + parse_duration(r.close_after),
                "city_operator",
                "",
                "close",
                note="回访无异议，结案",
            )


def expected_totals(plans: Iterable[MatterPlan]) -> dict[str, tuple[int, int]]:
    """(accepted, completed) per group that the platform's report must show for ``plans``."""
    out: dict[str, tuple[int, int]] = {}
    for p in plans:
        accepted, completed = out.get(p.group, (0, 0))
        out[p.group] = (accepted + 1, completed + (1 if p.completes else 0))
    return out

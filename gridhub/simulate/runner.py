"""Running a simulation: tokens, the plan or the live stream of matters, the actors, the
progress bar, and the platform's report at the end.

    result = asyncio.run(run(settings, RunOptions(scenario="shulan-2021-2022", scale=1/50)))
    result.matches        # the dispatch API's report equals the plan's totals

Two shapes of run:

* a **finite plan** (a scenario with ``totals``, e.g. the Shulan replay): exactly those
  matters, played in accelerated simulated time from the scenario's start; the run ends when
  every script is done and the report has caught up;
* an **open stream** (no totals, e.g. ``default``): matters drawn at ``rate`` per real
  second (shaped by the daily/weekly pattern) until ``duration`` runs out, or forever.

Receipt times are back-dated (sent with the record) when the scenario is ``historic`` and
``live`` is not asked for; otherwise intake stamps them "now".
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import redis.asyncio as aioredis
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gridhub.citydata import load_city
from gridhub.domain.calendar import SHANGHAI
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.simulate.actors import Actors, WallboardAcks, issue_cast
from gridhub.simulate.client import Http
from gridhub.simulate.clock import SimClock
from gridhub.simulate.plan import MatterPlan, Planner, expected_totals, pattern_factor
from gridhub.simulate.report import Totals, fetch_totals, months_between, render
from gridhub.simulate.scenario import Scenario, load_scenario
from gridhub.token_log import TokenLog

log = logging.getLogger("gridhub.simulate")


@dataclass(frozen=True)
class RunOptions:
    """What ``gridhub simulate`` was asked for (None: the scenario's value)."""

    scenario: str | Path = "default"
    rate: float | None = None
    duration: float = 0.0
    accel: float | None = None
    live: bool = False
    scale: float = 1.0
    seed: int | None = None
    intake_url: str | None = None
    dispatch_url: str | None = None
    wallboard_url: str | None = None
    concurrency: int = 32
    settle_timeout: float = 180.0
    token_ttl: int = 7 * 86400
    run_id: str | None = None


@dataclass
class RunResult:
    """What a run did and what the platform reported about it."""

    scenario: str
    run_id: str
    planned: int
    elapsed: float
    stats: Counter[str]
    reasons: Counter[str]
    expected: dict[str, tuple[int, int]] | None = None
    report: Totals | None = None
    matches: bool | None = None
    months: list[str] = field(default_factory=list)
    scale: float = 1.0


def urls(settings: Settings, options: RunOptions) -> tuple[str, str, str]:
    """Base URLs of intake, dispatch and the wallboard WebSocket."""
    host = settings.host
    intake = options.intake_url or f"http://{host}:{settings.intake_port}"
    dispatch = (
        options.dispatch_url or settings.dispatch_url or f"http://{host}:{settings.dispatch_port}"
    )
    wallboard = options.wallboard_url or f"ws://{host}:{settings.wallboard_port}/ws"
    return intake.rstrip("/"), dispatch.rstrip("/"), wallboard


class Runner:
    """One run: set up, feed matters to the actors, report."""

    def __init__(self, settings: Settings, options: RunOptions, console: Console) -> None:
        self.settings = settings
        self.options = options
        self.console = console
        self.scenario: Scenario = load_scenario(options.scenario)
        self.city = load_city(settings.city_file)
        self.run_id = options.run_id or f"{int(time.time()):x}{secrets.token_hex(2)}"
        sc = self.scenario
        self.finite = sc.totals is not None
        self.dated = sc.time.mode == "historic" and not options.live
        self.seed = sc.seed if options.seed is None else options.seed
        self.planner = Planner(sc, self.city, self.run_id)
        self.tasks: set[asyncio.Task[None]] = set()
        self.fed = 0

    async def run(self) -> RunResult:
        """Do the whole run and return its result."""
        sc, opt = self.scenario, self.options
        plans = self.planner.replay(opt.scale, self.seed) if self.finite else []
        start = plans[0].received if plans else datetime.now(SHANGHAI)
        if self.finite and sc.time.start is not None:
            start = sc.time.start
        clock = SimClock(start, opt.accel or sc.time.accel)
        redis = aioredis.from_url(str(self.settings.redis_url))
        try:
            keys = RedisKeys(self.settings.redis_prefix)
            async with TokenLog(self.settings) as log:
                cast = await issue_cast(redis, keys, self.city, self.run_id, opt.token_ttl, log)
        finally:
            await redis.aclose()
        intake_url, dispatch_url, ws_url = urls(self.settings, opt)
        intake = Http(intake_url, concurrency=opt.concurrency)
        dispatch = Http(dispatch_url, concurrency=opt.concurrency)
        acks = WallboardAcks(ws_url, cast, dispatch)
        actors = Actors(cast, intake, dispatch, acks, clock, self.dated)
        leader = cast.token("leader")
        first = (sc.time.start if self.dated and sc.time.start else datetime.now(SHANGHAI)).date()
        months = months_between(first, datetime.now(SHANGHAI).date())
        baseline = await fetch_totals(dispatch, leader, months, self.city) if self.finite else None
        real0 = time.monotonic()
        try:
            await self._feed_with_progress(plans, clock, actors)
            result = RunResult(
                sc.name, self.run_id, len(plans) or self.fed, 0.0, actors.stats, actors.reasons
            )
            result.scale = opt.scale
            if self.finite and baseline is not None:
                months = months_between(first, datetime.now(SHANGHAI).date())
                result.expected = expected_totals(plans)
                result.months = months
                result.report = await self._settled(dispatch, leader, months, baseline, actors)
            result.elapsed = time.monotonic() - real0
            result.stats.update(intake.stats)
            result.stats.update(dispatch.stats)
            return result
        finally:
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            await acks.aclose()
            await intake.aclose()
            await dispatch.aclose()

    def _spawn(self, job: Awaitable[None]) -> None:
        task = asyncio.ensure_future(job)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _feed(self, plans: list[MatterPlan], clock: SimClock, actors: Actors) -> None:
        """Hand matters to the actors at their simulated receipt times (finite plan) or at
        the live rate (open stream), within ``duration``."""
        opt, sc = self.options, self.scenario
        until = time.monotonic() + opt.duration if opt.duration > 0 else float("inf")
        gap = 1.0 / opt.rate if opt.rate and self.finite else 0.0
        last = 0.0
        if self.finite:
            for plan in plans:
                await clock.sleep_until(plan.received)
                if gap:
                    await asyncio.sleep(max(0.0, last + gap - time.monotonic()))
                    last = time.monotonic()
                if time.monotonic() >= until:
                    return
                self._spawn(actors.perform(plan))
                self.fed += 1
            while self.tasks and time.monotonic() < until:
                await asyncio.wait(set(self.tasks), timeout=1.0)
            return
        rng = random.Random(self.seed)
        rate = opt.rate or sc.rate
        while time.monotonic() < until:
            now = clock.now()
            await asyncio.sleep(
                rng.expovariate(rate * pattern_factor(sc, now.astimezone(SHANGHAI)))
            )
            self._spawn(actors.perform(self.planner.draw(rng, self.fed, clock.now())))
            self.fed += 1

    async def _feed_with_progress(
        self, plans: list[MatterPlan], clock: SimClock, actors: Actors
    ) -> None:
        """:meth:`_feed` under a progress bar (or a log line every 30 s off a terminal)."""
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[info]}"),
        )
        with Progress(*columns, console=self.console, disable=not self.console.is_terminal) as bar:
            task = bar.add_task(self.scenario.name, total=len(plans) or None, info="")
            feeding = asyncio.ensure_future(self._feed(plans, clock, actors))
            last_log = time.monotonic()
            while not feeding.done():
                await asyncio.wait({feeding}, timeout=0.5)
                s = actors.stats
                info = (
                    f"sim {clock.now().astimezone(SHANGHAI):%Y-%m-%d %H:%M} · "
                    f"in flight {len(self.tasks)} · steps {s['steps']:,} · "
                    f"rejected {sum(v for k, v in s.items() if k.startswith('rejected')):,}"
                )
                bar.update(task, completed=s["submitted"] + s["duplicate"], info=info)
                if not self.console.is_terminal and time.monotonic() - last_log > 30:
                    last_log = time.monotonic()
                    self.console.print(
                        f"{datetime.now(UTC):%H:%M:%S} submitted {s['submitted']:,} · {info}"
                    )
            feeding.result()

    async def _settled(
        self, dispatch: Http, token: str, months: list[str], baseline: Totals, actors: Actors
    ) -> Totals:
        """The report once it has caught up with everything submitted (or after the settle
        timeout): the run's share = report now − report before."""
        want = actors.stats["submitted"]
        deadline = time.monotonic() + self.options.settle_timeout
        previous = None
        while True:
            now = (await fetch_totals(dispatch, token, months, self.city)).minus(baseline)
            key = (now.city.accepted, now.city.completed, now.city.rated)
            if (now.city.accepted >= want and key == previous) or time.monotonic() > deadline:
                return now
            previous = key
            await asyncio.sleep(2.0)


async def run(settings: Settings, options: RunOptions, console: Console | None = None) -> RunResult:
    """Run a simulation (see the module doc) and return its result."""
    return await Runner(settings, options, console or Console()).run()


def print_result(result: RunResult, scenario: Scenario, console: Console) -> bool:
    """Print a finished run: timing, step outcomes, refusals and the platform's report."""
    s = result.stats
    console.print(
        f"[bold]{result.scenario}[/bold] run {result.run_id}: {result.planned:,} matters, "
        f"{s['steps']:,} steps in {result.elapsed:,.1f} s real time"
    )
    outcome = Counter({k: v for k, v in s.items() if ":" in k})
    failed = {k: v for k, v in outcome.items() if not k.startswith("ok:")}
    console.print(
        f"steps ok {sum(outcome.values()) - sum(failed.values()):,}; not ok: {failed or 'none'}"
    )
    extra = {k: v for k, v in s.items() if ":" not in k and k not in ("steps",)}
    console.print(f"counters: {extra}")
    for reason, count in result.reasons.most_common(8):
        console.print(f"  {count:>6} × {reason}")
    if result.report is None:
        return True
    title = f"dispatch API report, months {result.months[0]} … {result.months[-1]} (this run)"
    figures = scenario.figures if result.scale == 1 else []  # the seed's figures: full scale
    result.matches = render(console, result.report, result.expected, figures, title)
    return result.matches

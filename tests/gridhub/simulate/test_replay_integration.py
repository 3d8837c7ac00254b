"""The Shulan replay at 1/50 scale against the real services (intake, the stream worker,
the dispatch API as subprocesses, on the test's own topics and Redis keys): the dispatch
API's report must equal the totals the scenario gives at that scale, exactly.

Without a wallboard gateway the one-click acknowledgements fall back to the dispatch API
(the wallboard's own tests cover the WebSocket path)."""

from __future__ import annotations

import contextlib

import pytest
from rich.console import Console

from gridhub.citydata import load_city
from gridhub.kafka_admin import delete_topics_with_prefix
from gridhub.settings import DEFAULT_CITY_FILE, Settings
from gridhub.simulate.plan import Planner, expected_totals
from gridhub.simulate.runner import RunOptions, print_result, run
from gridhub.simulate.scenario import load_scenario, scaled_totals
from tests.dispatch.streams_worker import needs_streams
from tests.gridhub.simulate.services import running_system

pytestmark = [pytest.mark.integration, needs_streams]
SCALE = 1 / 50


@pytest.fixture
def shulan(settings: Settings, redis_client: object) -> Settings:
    """The test's settings on the reference city (the replay's categories and groups)."""
    s = settings.model_copy(update={"city_file": DEFAULT_CITY_FILE})
    yield s
    with contextlib.suppress(Exception):
        delete_topics_with_prefix(s, s.topic_prefix)


@pytest.mark.timeout(600)
async def test_replay_at_one_fiftieth_reports_the_expected_totals(shulan: Settings) -> None:
    scenario = load_scenario("shulan-2021-2022")
    assert scenario.totals is not None
    want = {g: (t.accepted, t.completed) for g, t in scaled_totals(scenario.totals, SCALE).items()}
    plans = Planner(scenario, load_city(DEFAULT_CITY_FILE), "x").replay(SCALE)
    assert expected_totals(plans) == want  # what the plan promises, before any I/O
    console = Console(width=120)
    with running_system(shulan) as system:
        options = RunOptions(
            scenario="shulan-2021-2022", scale=SCALE, accel=2_000_000, concurrency=64
        )
        result = await run(system, options, console)
    assert print_result(result, scenario, console)
    assert result.report is not None and result.expected == want
    report = result.report
    assert (report.value("accepted"), report.value("completed")) == (
        sum(a for a, _ in want.values()),
        sum(c for _, c in want.values()),
    )
    for group, (accepted, completed) in want.items():
        assert (report.value("accepted", group), report.value("completed", group)) == (
            accepted,
            completed,
        )
    not_ok = {k: v for k, v in result.stats.items() if ":" in k and not k.startswith("ok:")}
    assert not not_ok, (not_ok, result.reasons.most_common(5))
    assert result.stats["submitted"] == len(plans)

"""Fault 1: kill -9 the stream worker under steady intake load, then restart it.

Counted by matter id: every matter intake answered 2xx reaches its department topic (its
version-1 task on ``dept.ZJJ``), none is dispatched twice; every deadline alert of every
matter is on ``alerts`` and in the warnings projection exactly once; and the live
projections equal a clean rebuild from Kafka (they converge).

streams/ promises at-least-once delivery with deterministic CloudEvent ids (streams/app.py):
records re-sent after the kill carry an id already seen. They are counted and reported
(``raw_redelivered``), not hidden; "duplicated" counts distinct ids, the consumers' view.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import orjson
import pytest

from gridhub.settings import Settings
from tests.reliability.converge import projected_count, projection_diff
from tests.reliability.load import IntakeLoad, read_events, record, tally_tasks
from tests.support.system import System

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(420)]

RATE = 25.0  # matters/s, steady
BEFORE, DOWN, AFTER = 12.0, 3.0, 15.0  # seconds of load before the kill, while down, after
LEVELS = ("yellow", "red")


async def wait_projected(system: System, ids: list[str], within: float) -> float:
    """Seconds until every matter of ``ids`` is projected (fails after ``within``)."""
    started = time.monotonic()
    while await projected_count(system, ids) < len(ids):
        assert time.monotonic() - started < within, "matters not projected in time"
        await asyncio.sleep(0.2)
    return time.monotonic() - started


async def test_kill_9_worker_under_load(system: System, rsettings: Settings) -> None:
    system.start_all()
    await system.ready(["intake", "streams"])
    load = IntakeLoad(system.url("intake"), await system.token("intake"), RATE)
    await load.run(2.0)  # warm-up: the worker has joined its group and projects
    await wait_projected(system, list(load.accepted), 60)

    running = asyncio.create_task(load.run(BEFORE + DOWN + AFTER))
    await asyncio.sleep(BEFORE)
    killed_at = time.monotonic()
    system.kill("streams")
    await asyncio.sleep(DOWN)
    system.start("streams")
    before_restart = list(load.accepted)
    caught_up = await wait_projected(system, before_restart, 120) + DOWN
    await running
    statuses = load.statuses()
    accepted = load.accepted
    await wait_projected(system, list(accepted), 120)

    # every deadline alert of every matter (sign_for and resolve, yellow then red)
    expected = {
        f"{m}:{k}:1:{lvl}" for m in accepted for k in ("sign_for", "resolve") for lvl in LEVELS
    }
    deadline = time.monotonic() + 60
    while True:
        alerts = await read_events(rsettings, system.topics.alerts)
        seen = {a.id for a in alerts}
        if expected <= seen or time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    await asyncio.sleep(2.0)  # settle: late re-sends would show up now
    alerts = await read_events(rsettings, system.topics.alerts)
    deadline_alerts = Counter(a.id for a in alerts if a.data.get("level") in LEVELS)
    missed_alerts = expected - set(deadline_alerts)
    stray_alerts = set(deadline_alerts) - expected

    tasks = await read_events(rsettings, system.topics.department("ZJJ"))
    tally = tally_tasks(tasks, accepted)

    redis = system.redis()
    try:
        raw_members: Any = await redis.zrange(system.keys.warnings(), 0, -1)
        members = [orjson.loads(m) for m in raw_members]
        projected = Counter(m["id"] for m in members if m["level"] in LEVELS)
        diffs, report = await projection_diff(rsettings, redis)
    finally:
        await redis.aclose()

    record(
        "1 kill -9 stream worker",
        load=f"{RATE:.0f}/s target ({len(accepted) / (2 + BEFORE + DOWN + AFTER):.1f}/s reached) "
        f"for {BEFORE + DOWN + AFTER:.0f} s; worker down {DOWN:.0f} s",
        **tally.row(),
        alerts_expected=len(expected),
        alerts_missed=len(missed_alerts),
        alerts_duplicated=sum(1 for c in projected.values() if c > 1),
        alerts_raw_redelivered=sum(c - 1 for c in deadline_alerts.values()),
        projection_diffs=len(diffs),
        recovery_s=round(caught_up, 1),
        recovery_note="kill → every matter accepted before the restart projected",
        statuses=dict(statuses),
        rebuild_records_per_s=round(report.records_per_second),
    )
    assert tally.accepted > RATE * (BEFORE + DOWN + AFTER) * 0.4  # a busy 2-core box is slower
    assert set(statuses) <= {201}, statuses  # the worker's death is invisible to intake
    assert tally.lost == 0 and tally.duplicated == 0, tally
    assert not missed_alerts, sorted(missed_alerts)[:10]
    assert not stray_alerts, sorted(stray_alerts)[:10]
    assert set(projected) == expected and max(projected.values()) == 1
    assert not diffs, "\n".join(diffs[:20])
    assert killed_at > 0

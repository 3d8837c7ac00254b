"""Fault 5: overload. Intake is driven open-loop at 3× its measured sustainable rate for 60 s.

First the sustainable rate is measured: a closed loop (a fixed number of callers, each
waiting for its answer) for a few seconds. Then calls arrive at three times that rate
whatever the answers. Intake must answer every call — 201, or 429/503 with Retry-After —
never time out or fail with another 5xx; its memory must stay bounded; and afterwards the
backlog drains: every accepted matter is dispatched (counted by id) and projected, and a
fresh call is answered quickly again.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from tests.reliability.converge import projected_count
from tests.reliability.load import IntakeLoad, read_events, record, tally_tasks
from tests.support.system import System

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(480)]

OVERLOAD_SECONDS = 60.0
FACTOR = 3.0


async def sample_rss(system: System, out: list[int], stop: asyncio.Event) -> None:
    """Sample intake's resident memory every 0.5 s until ``stop``."""
    while not stop.is_set():
        out.append(system.rss_bytes("intake"))
        await asyncio.sleep(0.5)


async def test_three_times_sustainable_for_60s(system: System) -> None:
    system.start_all()
    await system.ready(["intake", "streams"])
    token = await system.token("intake")
    probe = IntakeLoad(system.url("intake"), token, rate=10_000.0, in_flight=16)
    await probe.run(3.0)  # warm-up
    probe.outcomes.clear()
    started = time.monotonic()
    await probe.run(8.0)
    sustainable = sum(1 for o in probe.outcomes if o.status == 201) / (time.monotonic() - started)
    baseline_rss = system.rss_bytes("intake")

    target = FACTOR * sustainable
    load = IntakeLoad(system.url("intake"), token, rate=target, in_flight=4000, timeout=30.0)
    rss: list[int] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(system, rss, stop))
    began = time.monotonic()
    await load.run(OVERLOAD_SECONDS)
    ended = time.monotonic()
    stop.set()
    await sampler
    statuses = load.statuses()
    offered = len(load.outcomes) / (ended - began)

    accepted = list(load.accepted) + list(probe.accepted)
    drain_started = time.monotonic()
    while await projected_count(system, accepted) < len(accepted):
        assert time.monotonic() - drain_started < 240, "the backlog did not drain"
        await asyncio.sleep(1.0)
    drained = time.monotonic() - drain_started
    after = IntakeLoad(system.url("intake"), token, rate=5.0)
    await after.run(2.0)
    fast_again = all(o.status == 201 for o in after.outcomes)

    tasks = await read_events(system.settings, system.topics.department("ZJJ"))
    tally = tally_tasks(tasks, {m: "" for m in accepted})
    refused = [o for o in load.outcomes if o.status in (429, 503)]
    peak = max(rss or [0])
    record(
        "5 overload 3x sustainable for 60 s",
        load=f"sustainable {sustainable:.0f}/s measured; offered {offered:.0f}/s "
        f"(target {target:.0f}/s) for {OVERLOAD_SECONDS:.0f} s",
        **tally.row(),
        statuses=dict(statuses),
        intake_rss_mb=f"{baseline_rss / 2**20:.0f} → peak {peak / 2**20:.0f}",
        recovery_s=round(drained, 1),
        recovery_note="load stopped → every accepted matter projected (lag back to zero)",
        fast_again=fast_again,
    )
    assert offered >= 2 * sustainable, f"the load generator only offered {offered:.0f}/s"
    errors = Counter(o.error for o in load.outcomes if o.status == 0)
    assert set(statuses) <= {201, 429, 503}, (statuses, errors)  # no timeouts, no other 5xx
    assert all(o.retry_after for o in refused)
    assert statuses[201] > 0
    assert peak < baseline_rss + 300 * 2**20, (baseline_rss, peak)
    assert tally.lost == 0 and tally.duplicated == 0, tally
    assert fast_again

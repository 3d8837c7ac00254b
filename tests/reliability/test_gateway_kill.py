"""Fault 4: kill -9 a wallboard gateway process with screens connected, under steady load.

Two gateway processes share the Redis stream (its entry ids are the sequence numbers). The
one that runs the feeder is killed, so the feeder lock must move too. Its screens reconnect
to the other process with their ``last_seq`` and miss nothing: every accepted matter reaches
every screen at its final version, no delta arrives twice or out of order, and each
reconnected screen holds the same matters and versions as a control screen that stayed on
the surviving gateway the whole time.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.reliability.load import IntakeLoad, record
from tests.reliability.screens import Screen
from tests.support.system import System

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(300)]

SCREENS = 12


async def feeder_leader(system: System) -> str:
    """The gateway process that runs the feeder now."""
    async with httpx.AsyncClient(timeout=2) as http:
        for _ in range(100):
            for name in system.gateway_names:
                r = await http.get(system.url(name) + "/healthz")
                if r.json().get("feeder_leader"):
                    return name
            await asyncio.sleep(0.2)
    raise AssertionError("no gateway leads the feeder")


@pytest.fixture
def system2(rsettings, tmp_path):
    """The system with two gateway processes."""
    with System(rsettings, tmp_path / "system", gateways=2) as running:
        yield running


async def test_kill_9_gateway_with_screens(system2: System) -> None:
    system = system2
    system.start_all()
    await system.ready()
    victim = await feeder_leader(system)
    survivor = next(n for n in system.gateway_names if n != victim)
    token = await system.token("city_operator")
    screens = [Screen(token) for _ in range(SCREENS)]
    control = Screen(token)
    urls = [system.url(victim, "ws"), system.url(survivor, "ws")]
    tasks = [asyncio.create_task(s.watch(urls)) for s in screens]
    tasks.append(asyncio.create_task(control.watch([system.url(survivor, "ws")])))
    load = IntakeLoad(system.url("intake"), await system.token("intake"), 10.0)
    try:
        running = asyncio.create_task(load.run(30.0))
        await asyncio.sleep(10.0)
        assert all(len(s.connects) == 1 for s in screens)
        killed_at = time.monotonic()
        system.kill(victim)
        await running
        accepted = set(load.accepted)
        after_kill = [o.matter_id for o in load.outcomes if o.matter_id and o.at > killed_at]
        started = time.monotonic()
        while not all(accepted <= set(s.matters) for s in [*screens, control]):
            if time.monotonic() - started > 60:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(8.0)  # deadlines of the last matters fire: versions move on
        reconnected = [s.connects[1][0] - killed_at for s in screens if len(s.connects) > 1]
        lost = {id(s): sorted(accepted - set(s.matters)) for s in screens}
        behind = {
            id(s): [m for m, v in control.matters.items() if s.matters.get(m, 0) < v]
            for s in screens
        }
        repeated = sum(s.repeated() for s in screens)
        disorder = sum(s.out_of_order() for s in screens)
        record(
            "4 kill -9 the feeder-leading gateway",
            load=f"10 matters/s for 30 s; {SCREENS} screens on it, 1 control screen",
            accepted=len(accepted),
            present=min(len(accepted & set(s.matters)) for s in screens),
            lost=sum(len(v) for v in lost.values()),
            duplicated=repeated,
            out_of_order=disorder,
            stale_versions=sum(len(v) for v in behind.values()),
            reconnected=f"{len(reconnected)}/{SCREENS}",
            recovery_s=round(max(reconnected or [float("nan")]), 2),
            recovery_note="kill → last screen reconnected (resumed with last_seq) on the other "
            "gateway; the feeder lock moved within its 10 s TTL",
            matters_after_kill=len(after_kill),
            snapshots=sorted({r for s in screens for r in s.snapshots}),
        )
        assert len(reconnected) == SCREENS
        assert all(not v for v in lost.values()), {k: v[:5] for k, v in lost.items() if v}
        assert all(not v for v in behind.values()), {k: v[:5] for k, v in behind.items() if v}
        assert repeated == 0 and disorder == 0
        assert all(s.snapshots == ["connect"] for s in screens), [s.snapshots for s in screens]
        assert not any(s.errors for s in screens)
    finally:
        for task in tasks:
            task.cancel()

"""Fault 2: the Kafka broker stops for 30 s under steady load, then starts again.

The worker's Kafka request timeout is shorter than the outage, so its requests fail while
it lasts (a longer outage does that at the default 90 s); every process must still be the
one started at the beginning.

While it is down, intake answers 503 with Retry-After and never a 2xx it cannot keep. After
it is back, every matter that got a 2xx is on ``matters.intake`` and dispatched on its
department topic (counted by matter id), and the gateway, the dispatch API and the stream
worker recover by themselves: nothing is restarted by the test.

The broker is a private one (tests/support/private_kafka.py), started for this test only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gridhub.settings import Settings
from tests.reliability.conftest import private_settings
from tests.reliability.load import IntakeLoad, read_events, record, tally_tasks
from tests.reliability.screens import Screen
from tests.support.private_kafka import PrivateKafka
from tests.support.private_redis import PrivateRedis
from tests.support.system import System

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(480)]

RATE = 10.0
OUTAGE = 30.0
REQUEST_TIMEOUT = 12.0


@pytest.fixture
def outage_system(
    settings: Settings, private_redis: PrivateRedis, tmp_path: Path
) -> Iterator[tuple[System, PrivateKafka]]:
    """The system on a broker of its own (this test stops it)."""
    with PrivateKafka() as kafka:
        s = private_settings(settings, kafka.bootstrap, private_redis.url, tmp_path)
        env = {
            "GRIDHUB_INTAKE_KAFKA_TIMEOUT_MS": "3000",
            "GRIDHUB_INTAKE_RETRY_AFTER_SECONDS": "2",
            # shorter than the outage, so the worker's Kafka requests time out while it lasts
            # (at the default 90 s a longer outage does the same)
            "GRIDHUB_STREAMS_REQUEST_TIMEOUT_SECONDS": str(REQUEST_TIMEOUT),
        }
        with System(s, tmp_path / "system", env=env) as system:
            yield system, kafka


async def until(check, within: float, every: float = 0.25) -> float:
    """Seconds until the async ``check()`` is true (fails after ``within``)."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < within, f"not recovered within {within} s"
        await asyncio.sleep(every)
    return time.monotonic() - started


async def watch_recovery(
    load: IntakeLoad, api: httpx.AsyncClient, screen: Screen, since: float, out: dict[str, float]
) -> None:
    """Note when intake answers 2xx again, and when a matter accepted after that is in the
    dispatch API and on the board (seconds after ``since``); all within 240 s."""
    while len(out) < 3 and time.monotonic() - since < 240:
        fresh = [o for o in load.outcomes if o.at >= since and o.matter_id]
        if fresh:
            out.setdefault("intake", fresh[0].at - since)
            mid = fresh[0].matter_id
            if "api" not in out and (await api.get(f"/v1/matters/{mid}")).status_code == 200:
                out["api"] = time.monotonic() - since
            if "board" not in out and mid in screen.matters:
                out["board"] = time.monotonic() - since
        await asyncio.sleep(0.25)
    assert len(out) == 3, f"not everything recovered: {out}"


async def test_kafka_down_30s_under_load(outage_system: tuple[System, PrivateKafka]) -> None:
    system, kafka = outage_system
    system.start_all()
    await system.ready()
    operator = await system.token("city_operator")
    load = IntakeLoad(system.url("intake"), await system.token("intake"), RATE)
    screen = Screen(operator)
    watching = asyncio.create_task(screen.watch([system.url("gateway0", "ws")]))
    api = httpx.AsyncClient(
        base_url=system.url("dispatch"), headers={"Authorization": f"Bearer {operator}"}
    )
    try:
        await load.run(5.0)
        running = asyncio.create_task(load.run(10.0 + OUTAGE + 60.0))
        await asyncio.sleep(10.0)
        await asyncio.to_thread(kafka.stop)
        down_at = time.monotonic()
        await asyncio.sleep(OUTAGE)
        up_at = time.monotonic()  # the broker process starts now; KRaft takes a while
        recovered: dict[str, float] = {}
        monitor = asyncio.create_task(watch_recovery(load, api, screen, up_at, recovered))
        await asyncio.to_thread(kafka.start)
        broker_ready = time.monotonic() - up_at
        await running
        await asyncio.wait_for(monitor, 60)

        during = [o for o in load.outcomes if down_at + 1.0 <= o.at < up_at]
        refused = [o for o in load.outcomes if o.status == 503]
        recovery = max(recovered.values())
        accepted = load.accepted
        intake = await read_events(system.settings, system.topics.intake)
        on_intake = {e.subject for e in intake}
        tasks = await read_events(system.settings, system.topics.department("ZJJ"))
        tally = tally_tasks(tasks, accepted)
        if tally.lost:  # the worker may still be catching up: give it time, then count
            await asyncio.sleep(20)
            tasks = await read_events(system.settings, system.topics.department("ZJJ"))
            tally = tally_tasks(tasks, accepted)
        statuses = load.statuses()
        record(
            "2 Kafka broker down 30 s",
            load=f"{RATE:.0f} matters/s; broker stopped {OUTAGE:.0f} s",
            **tally.row(),
            false_2xx=len(set(accepted) - on_intake),
            during_outage=dict(load.statuses(down_at + 1.0, up_at)),
            statuses=dict(statuses),
            recovery_s=round(recovery, 1),
            recovery_note=f"broker process started → broker ready {broker_ready:.1f} s; then "
            f"intake 2xx, API and board show a new matter: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in recovered.items()),
            screen_reconnects=len(screen.connects) - 1,
        )
        assert during and all(o.status == 503 for o in during), load.statuses(down_at + 1, up_at)
        assert all(o.retry_after and int(o.retry_after) > 0 for o in refused)
        assert set(statuses) <= {201, 503}, statuses  # no 5xx other than 503, no timeouts
        assert not set(accepted) - on_intake  # never a false 2xx
        assert tally.lost == 0 and tally.duplicated == 0, tally
        down = [name for name in system.procs if not system.alive(name)]
        assert not down, f"{down} exited:\n" + "\n".join(
            system.log_text(name)[-3000:] for name in down
        )
    finally:
        watching.cancel()
        await api.aclose()

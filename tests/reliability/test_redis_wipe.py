"""Fault 3: Redis restarts with its data gone, under steady load.

The stream worker notices the empty store (its marker key is gone) and rebuilds every
projection from Kafka before it projects anything more (streams/rebuild.py); the dispatch
API answers correctly again (a matter accepted before the wipe reads back as it was), the
screens resynchronise (a new screen's snapshot holds the old matters, a connected one
gets every new matter), and the live projections equal a clean rebuild. Then
``gridhub rebuild`` is run against the running system: it asks the worker to rebuild and
waits for it, and the projections still converge.

Tokens survive: Kafka is their durable record (gridhub/token_log.py) and the rebuild puts
them back into Redis, so the intake connector, the operator and the connected screen go on
with the tokens issued before the wipe, and a token revoked before the wipe stays revoked.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import httpx
import orjson
import pytest

from gridhub.auth import Principal, verify_token
from gridhub.settings import Settings
from tests.reliability.converge import projection_diff
from tests.reliability.load import IntakeLoad, read_events, record, tally_tasks
from tests.reliability.screens import Screen
from tests.support.private_redis import PrivateRedis
from tests.support.system import ROOT, System

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(420)]


async def marker_back(system: System, within: float = 120.0) -> float:
    """Seconds until the projection marker is present (the rebuild finished)."""
    started = time.monotonic()
    redis = system.redis()
    try:
        while True:
            try:
                if await redis.exists(system.keys.projection_marker()):
                    return time.monotonic() - started
            except Exception:  # Redis still coming back
                pass
            assert time.monotonic() - started < within, "no rebuild"
            await asyncio.sleep(0.2)
    finally:
        await redis.aclose()


async def test_redis_wiped_under_load(
    system: System, rsettings: Settings, private_redis: PrivateRedis
) -> None:
    system.start_all()
    await system.ready()
    load = IntakeLoad(system.url("intake"), await system.token("intake"), 10.0)
    screen = Screen(await system.token("city_operator"))
    watching = asyncio.create_task(screen.watch([system.url("gateway0", "ws")]))
    try:
        running = asyncio.create_task(load.run(40.0))
        await asyncio.sleep(12.0)
        old = list(load.accepted)[:20]
        operator = await system.token("city_operator")
        revoked = await system.token("supervisor", user="revoked-before-the-wipe")
        expiring = await system.token("leader", user="expiring", ttl=3600)
        before = {t: await _principal(system, t) for t in (operator, revoked, expiring)}
        to_revoke = before[revoked]
        assert all(before.values()) and to_revoke is not None
        assert await system.revoke(to_revoke.token_id)
        async with httpx.AsyncClient(
            base_url=system.url("dispatch"), headers={"Authorization": f"Bearer {operator}"}
        ) as api:
            views_before = {m: (await api.get(f"/v1/matters/{m}")).json() for m in old}
        assert all("state" in v for v in views_before.values()), views_before

        await asyncio.to_thread(private_redis.wipe)
        wiped_at = time.monotonic()
        await asyncio.to_thread(private_redis.start)
        rebuilt_in = await marker_back(system)
        rebuilt_at = time.monotonic()
        # straight after the rebuild, the tokens of before the wipe verify as they did
        after = {t: await _principal(system, t) for t in (operator, revoked, expiring)}
        assert after[operator] == before[operator] and after[expiring] == before[expiring]
        assert after[revoked] is None, "a revoked token came back with the restore"
        async with httpx.AsyncClient(
            base_url=system.url("dispatch"), headers={"Authorization": f"Bearer {operator}"}
        ) as api:
            seen: set[int] = set()
            while (code := (await api.get(f"/v1/matters/{old[0]}")).status_code) != 200:
                seen.add(code)
                assert time.monotonic() - wiped_at < 90, "the API did not come back"
                await asyncio.sleep(0.2)
            # while Redis is down or empty: 503 (or 404 while the projections come back),
            # never "your token is unknown" nor an internal error
            assert seen <= {503, 404}, seen
            api_back = time.monotonic() - wiped_at
            refused = await api.get(
                f"/v1/matters/{old[0]}", headers={"Authorization": f"Bearer {revoked}"}
            )
        assert refused.status_code == 401, refused.text
        await running
        await asyncio.sleep(8.0)  # the last matters' deadlines fire; the screen catches up

        async with httpx.AsyncClient(
            base_url=system.url("dispatch"), headers={"Authorization": f"Bearer {operator}"}
        ) as api:
            views_after = {m: (await api.get(f"/v1/matters/{m}")).json() for m in old}
            queue = (await api.get("/v1/departments/ZJJ/queue", params={"limit": 100})).json()
        for m in old:  # the same matter, at least as far along (deadlines may have fired)
            assert (
                views_after[m]["id"] == m
                and views_after[m]["version"] >= views_before[m]["version"]
            )
        assert queue["count"] == 100, queue  # the queue is back (every matter is still open)

        fresh = Screen(operator)
        watching_fresh = asyncio.create_task(fresh.watch([system.url("gateway0", "ws")]))
        await asyncio.sleep(3.0)
        watching_fresh.cancel()
        late = [o.matter_id for o in load.outcomes if o.matter_id and o.at > wiped_at + 5]
        missing_live = [m for m in late if m not in screen.matters]

        tasks = await read_events(rsettings, system.topics.department("ZJJ"))
        tally = tally_tasks(tasks, load.accepted)
        redis = system.redis()
        try:
            diffs, report = await projection_diff(rsettings, redis)
            cli = await asyncio.to_thread(run_cli_rebuild, system)
            diffs_after_cli, _ = await projection_diff(rsettings, redis)
            marker = orjson.loads(await redis.get(system.keys.projection_marker()) or b"{}")
            queued = await redis.zcard(system.keys.dept_queue("ZJJ"))
        finally:
            await redis.aclose()
        record(
            "3 Redis restarted with its data gone",
            load=f"10 matters/s for 40 s ({len(load.accepted)} accepted); wipe at 12 s",
            **tally.row(),
            statuses=dict(load.statuses()),
            projection_diffs=len(diffs),
            rebuild_records=report.records,
            rebuild_records_per_s=round(report.records_per_second),
            recovery_s=round(api_back, 1),
            recovery_note=f"wipe → worker rebuilt the store {rebuilt_in:.1f} s after Redis "
            f"was back; API answers the old matters {api_back:.1f} s after the wipe",
            screen_new_matters=f"{len(late) - len(missing_live)}/{len(late)}",
            screen_snapshot_has_old=sum(1 for m in old if m in fresh.matters),
            unauthorized_until_rebuilt=load.statuses(wiped_at, rebuilt_at)[401],
        )
        assert tally.lost == 0 and tally.duplicated == 0, tally
        # the intake token of before the wipe is never refused as unauthorized: while the
        # store waits for its tokens the answer is 503 + Retry-After, then it works again
        after_rebuild = load.statuses(since=rebuilt_at)
        accepted_after = sum(n for code, n in after_rebuild.items() if 200 <= code < 300)
        assert load.statuses()[401] == 0 and accepted_after > 0, dict(load.statuses())
        assert not diffs, "\n".join(diffs[:20])
        assert cli.returncode == 0 and "projections rebuilt" in cli.stdout, cli.stdout + cli.stderr
        assert not diffs_after_cli, "\n".join(diffs_after_cli[:20])
        assert marker.get("records", 0) >= len(load.accepted)
        assert queued == len(load.accepted), (queued, len(load.accepted))
        assert all(m in fresh.matters for m in old[:5]), "the snapshot lacks the old matters"
        assert not missing_live, f"{len(missing_live)}/{len(late)} new matters never reached a "
        "connected screen (the feeder did not come back after the wipe?)"
    finally:
        watching.cancel()


async def _principal(system: System, token: str) -> Principal | None:
    """What the system's Redis verifies ``token`` as (None: unknown, revoked or expired)."""
    redis = system.redis()
    try:
        return await verify_token(redis, system.keys, token)
    finally:
        await redis.aclose()


def run_cli_rebuild(system: System) -> subprocess.CompletedProcess[str]:
    """``gridhub rebuild`` against the running system (the worker does it; the CLI waits)."""
    return subprocess.run(
        [sys.executable, "-c", "from gridhub.cli import main; main()", "rebuild", "--wait", "120"],
        cwd=ROOT,
        env=system.env("cli"),
        capture_output=True,
        text=True,
        timeout=180,
    )

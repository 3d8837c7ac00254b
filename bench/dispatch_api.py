"""Dispatch API benchmark: queue reads (requests/s, p99) and command round trip (p99).

    python -m bench.dispatch_api [--quick]

Runs the real API (``python -m dispatch``) and the real stream worker (``python -m streams
worker``) in subprocesses (:mod:`bench.system`), so client and servers do not share a GIL,
against the running Kafka and Redis, on topics and keys with a unique prefix that are
deleted afterwards. Queue reads: 16 clients page through a department queue of 2,000 seeded
matter views (the shape streams/ projects) for 20 s (``--quick``: 500 views, 1 s); the
baseline is the bare Redis work of one page (ZRANGE + MGET) in a loop. The command round
trip: 300 sequential urges of one matter (``--quick``: 10), each POST answered 200 once
streams/ has applied it. ``main(quick)`` returns entries ``{name, value, unit, target,
baseline?}``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import httpx
import orjson
import redis.asyncio as aioredis

from bench.support import Phases, pct
from bench.system import GRID, BenchSystem, own_or_shared
from gridhub.domain.hierarchy import City
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from tests.streams.support import intake_matter, intake_record, publish

PAGE = 50
_phase = Phases("dispatch_api")


def _view(i: int, grid: str, village: str, township: str, now: datetime) -> dict[str, Any]:
    due = now + timedelta(minutes=i)
    return {
        "id": f"MB{i:06d}", "source": "hotline-12345", "category": "LIV-HEATING",
        "urgency": "normal", "grid": grid, "village": village, "township": township,
        "description": f"bench matter {i}: 暖气不热", "attachments": [],
        "state": "assigned" if i % 3 else "signed_for",
        "owner": {"kind": "department", "code": "ZJJ"}, "tier": "department",
        "departments": ["ZJJ"],
        "deadlines": {"resolve": {"due_at": due.isoformat(), "level": "none"}},
        "warning_level": "none", "supervised": False, "urge_count": 0,
        "accepted_at": now.isoformat(), "updated_at": now.isoformat(), "version": 2,
    }  # fmt: skip


async def _seed_queue(redis: aioredis.Redis, keys: RedisKeys, city: City, n: int) -> None:
    grid = GRID
    village = city.village_of_grid(grid)
    township = city.township_of_grid(grid)
    now = datetime.now(UTC)
    async with redis.pipeline(transaction=False) as pipe:
        for i in range(n):
            view = _view(i, grid, village, township, now)
            pipe.set(keys.matter(view["id"]), orjson.dumps(view))
            pipe.zadd(keys.dept_queue("ZJJ"), {view["id"]: now.timestamp() + i * 60})
        await pipe.execute()


async def _queue_reads(
    url: str, token: str, n_matters: int, concurrency: int, seconds: float
) -> tuple[float, float, int]:
    """(requests/s, p99 ms, errors) of ``concurrency`` clients paging the ZJJ queue."""
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(base_url=url, headers=headers, connector=connector) as http:

        async def client(k: int) -> None:
            nonlocal errors
            i = k
            while time.monotonic() < deadline:
                offset = (i * PAGE) % max(PAGE, n_matters - PAGE)
                i += concurrency
                t0 = time.perf_counter()
                async with http.get(
                    f"/v1/departments/ZJJ/queue?limit={PAGE}&offset={offset}"
                ) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - t0)

        started = time.monotonic()
        await asyncio.gather(*(client(k) for k in range(concurrency)))
        elapsed = time.monotonic() - started
    return len(latencies) / elapsed, pct(latencies, 0.99, 1000), errors


async def _redis_baseline(redis: aioredis.Redis, keys: RedisKeys, seconds: float) -> float:
    """Pages/s of the bare Redis work behind one queue page (ZRANGE + MGET), one client."""
    count = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ids = await redis.zrange(keys.dept_queue("ZJJ"), 0, PAGE - 1)
        await redis.mget([keys.matter(i.decode()) for i in ids])  # type: ignore[union-attr]
        count += 1
    return count / seconds


def _submit_intake(settings: Settings, topic: str) -> str:
    """One matter straight onto the intake topic (the urges' target); its id."""
    matter = intake_matter(category="LIV-HEATING", grid=GRID)
    publish(settings, topic, [intake_record(matter)])
    return matter.matter_id


async def _projected(url: str, token: str, matter_id: str, within: float = 120.0) -> None:
    """Wait until the API serves ``matter_id``: the worker is up and projecting."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        deadline = time.monotonic() + within
        while (await http.get(f"/v1/matters/{matter_id}")).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the stream worker did not project a matter within {within} s")
            await asyncio.sleep(0.2)


async def _round_trips(url: str, token: str, matter_id: str, n: int) -> float:
    """p99 ms of ``n`` sequential urges, each answered 200 (applied by streams/)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        latencies = []
        for _ in range(n):
            t0 = time.perf_counter()
            r = await http.post(f"/v1/matters/{matter_id}/urge", json={"note": "bench"})
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                raise RuntimeError(f"urge answered {r.status_code}: {r.text[:200]}")
    return pct(latencies, 0.99, 1000)


async def _run(quick: bool, shared: BenchSystem | None) -> list[dict[str, Any]]:
    _phase.reset()
    n_matters, seconds, n_cmds = (500, 1.0, 10) if quick else (2000, 20.0, 300)
    async with own_or_shared(shared, "dispatch_api") as bench:
        system, keys = bench.system, bench.keys
        await bench.up("dispatch", "streams")
        _phase("API and worker up")
        redis = system.redis()
        try:
            await _seed_queue(redis, keys, system.city, n_matters)
            dept = await system.token("department", "ZJJ")
            operator = await system.token("city_operator")
            url = system.url("dispatch")
            matter_id = await asyncio.to_thread(
                _submit_intake, bench.settings, system.topics.intake
            )
            await _projected(url, operator, matter_id)
            await _queue_reads(url, dept, n_matters, 8, 0.5)  # warm up
            rps, p99, errors = await _queue_reads(url, dept, n_matters, 16, seconds)
            if errors:
                raise RuntimeError(f"{errors} queue reads failed")
            _phase("queue reads measured")
            baseline = await _redis_baseline(redis, keys, 0.5 if quick else 5.0)
            rt_p99 = await _round_trips(url, operator, matter_id, n_cmds)
            _phase("round trips measured")
        finally:
            await redis.aclose()
    return [
        {
            "name": f"department queue reads (page of {PAGE}, 16 clients)",
            "value": round(rps, 1),
            "unit": "requests/s",
            "target": 300,
            "baseline": round(baseline, 1),
        },
        {"name": "department queue read p99 latency", "value": round(p99, 1), "unit": "ms",
         "target": 200},
        {"name": f"command round trip p99 (POST → streams/ applied → 200, {n_cmds} urges)",
         "value": round(rt_p99, 1), "unit": "ms", "target": 500},
    ]  # fmt: skip


def main(quick: bool = False, system: BenchSystem | None = None) -> list[dict[str, Any]]:
    """Run the dispatch benchmark; ``quick`` uses fewer matters and shorter runs; ``system``:
    a running one to use (else it starts its own API and worker)."""
    return asyncio.run(_run(quick, system))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    for entry in main(parser.parse_args().quick):
        base = f"  (baseline {entry['baseline']:,})" if "baseline" in entry else ""
        head = f"{entry['name']}: {entry['value']:,} {entry['unit']}"
        print(f"{head}  (target {entry['target']:,}){base}")

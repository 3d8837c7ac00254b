"""Dispatch API benchmark: queue reads (requests/s, p99) and command round trip (p99).

    python -m bench.dispatch_api [--quick]

Runs the real API (``python -m dispatch`` in a subprocess, so client and server do not
share a GIL) against the running Kafka and Redis, on topics and keys with a unique prefix
that are deleted afterwards. Queue reads page through a department queue of seeded matter
views (the shape streams/ projects); the baseline is the bare Redis work of one page
(ZRANGE + MGET) in a loop. The command round trip (POST urge → streams/ applies → 200)
needs the stream processor: it runs ``python -m streams worker`` when streams/ is present and
reports ``None`` with a note otherwise. ``main(quick)`` returns entries
``{name, value, unit, target, baseline?}``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
import redis.asyncio as aioredis
from kafka import KafkaProducer

from gridhub.auth import issue_token
from gridhub.citydata import load_city
from gridhub.cloudevents import encode
from gridhub.intake import IntakeMatter, Source, intake_event, matter_id_for
from gridhub.kafka_admin import all_topics, delete_topics_with_prefix, ensure_topics
from gridhub.keys import RedisKeys
from gridhub.settings import Settings, load_settings
from gridhub.topics import Topics

ROOT = Path(__file__).resolve().parent.parent
PAGE = 50


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "GRIDHUB_TOPIC_PREFIX": settings.topic_prefix,
        "GRIDHUB_REDIS_PREFIX": settings.redis_prefix,
        "GRIDHUB_CITY_FILE": str(settings.city_file),
        "GRIDHUB_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


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


async def _seed_queue(redis: aioredis.Redis, keys: RedisKeys, settings: Settings, n: int) -> None:
    city = load_city(settings.city_file)
    grid = sorted(city.grids)[0]
    village = city.village_of_grid(grid)
    township = city.township_of_grid(grid)
    now = datetime.now(UTC)
    async with redis.pipeline(transaction=False) as pipe:
        for i in range(n):
            view = _view(i, grid, village, township, now)
            pipe.set(keys.matter(view["id"]), orjson.dumps(view))
            pipe.zadd(keys.dept_queue("ZJJ"), {view["id"]: now.timestamp() + i * 60})
        await pipe.execute()


async def _wait_ready(url: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"dispatch did not answer at {url}")


def _p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


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
    return len(latencies) / elapsed, _p99(latencies), errors


async def _redis_baseline(redis: aioredis.Redis, keys: RedisKeys, seconds: float) -> float:
    """Pages/s of the bare Redis work behind one queue page (ZRANGE + MGET), one client."""
    count = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ids = await redis.zrange(keys.dept_queue("ZJJ"), 0, PAGE - 1)
        await redis.mget([keys.matter(i.decode()) for i in ids])  # type: ignore[union-attr]
        count += 1
    return count / seconds


def _submit_intake(settings: Settings, tag: str) -> str:
    matter_id = matter_id_for("hotline-12345", f"bench-{tag}")
    matter = IntakeMatter(
        matter_id=matter_id, source=Source.HOTLINE_12345, source_id=f"bench-{tag}",
        received_at=datetime.now(UTC), category="LIV-HEATING", grid="T01-V001-G001",
        description="bench round trip",
    )  # fmt: skip
    record = encode(intake_event(matter))
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    producer.send(Topics.from_settings(settings).intake, key=record.key, value=record.value,
                  headers=record.headers)  # fmt: skip
    producer.flush()
    producer.close()
    return matter_id


async def _round_trips(url: str, token: str, matter_id: str, n: int) -> tuple[float | None, str]:
    """p99 ms of ``n`` sequential urges answered 200 (applied), or None and why not."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        deadline = time.monotonic() + 120
        while (await http.get(f"/v1/matters/{matter_id}")).status_code != 200:
            if time.monotonic() > deadline:
                return None, "the stream processor did not project the intake within 120 s"
            await asyncio.sleep(0.5)
        latencies = []
        for _ in range(n):
            t0 = time.perf_counter()
            r = await http.post(f"/v1/matters/{matter_id}/urge", json={"note": "bench"})
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                return None, f"urge answered {r.status_code}: {r.text[:200]}"
    return _p99(latencies), f"{n} sequential urges"


async def _run(quick: bool) -> list[dict[str, Any]]:
    tag = uuid.uuid4().hex[:8]
    settings = load_settings().model_copy(
        update={"topic_prefix": f"bench{tag}.", "redis_prefix": f"bench{tag}:",
                "city_file": ROOT / "tests" / "data" / "city_fast.json"}
    )  # fmt: skip
    city = load_city(settings.city_file)
    keys = RedisKeys(settings.redis_prefix)
    ensure_topics(settings, all_topics(Topics.from_settings(settings), city), partitions=2)
    redis = aioredis.from_url(str(settings.redis_url))
    n_matters, seconds, n_cmds = (500, 5.0, 50) if quick else (2000, 20.0, 300)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    streams_present = (ROOT / "streams" / "app.py").exists()
    api = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dispatch",
        env=_env(settings, GRIDHUB_DISPATCH_PORT=str(port), GRIDHUB_DISPATCH_WEBHOOKS="false",
                 GRIDHUB_COMMAND_WAIT_SECONDS="10"),
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    worker = None
    try:
        await _seed_queue(redis, keys, settings, n_matters)
        dept, _ = await issue_token(redis, keys, city, user="bench", role="department",
                                    scope_code="ZJJ")  # fmt: skip
        operator, _ = await issue_token(redis, keys, city, user="bench-op", role="city_operator")
        await _wait_ready(url)
        await _queue_reads(url, dept, n_matters, 8, 1.0)  # warm up
        rps, p99, errors = await _queue_reads(url, dept, n_matters, 16, seconds)
        if errors:
            raise RuntimeError(f"{errors} queue reads failed")
        baseline = await _redis_baseline(redis, keys, min(seconds, 5.0))
        rt_p99: float | None = None
        note = "streams/ is not in the tree yet: no stream processor to apply commands"
        if streams_present:
            worker = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "streams", "worker", env=_env(settings), cwd=ROOT,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            rt_p99, note = await _round_trips(url, operator, _submit_intake(settings, tag), n_cmds)
    finally:
        for proc in (api, worker):
            if proc is not None and proc.returncode is None:
                proc.terminate()
                await asyncio.wait_for(proc.wait(), 30)
        async for k in redis.scan_iter(match=f"{settings.redis_prefix}*", count=1000):
            await redis.delete(k)
        await redis.aclose()
        delete_topics_with_prefix(settings, settings.topic_prefix)
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
        {"name": "command round trip p99 (POST → streams/ applied → 200)",
         "value": None if rt_p99 is None else round(rt_p99, 1), "unit": "ms", "target": 500,
         "note": note},
    ]  # fmt: skip


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Run the dispatch benchmark; ``quick`` uses fewer matters and shorter runs."""
    return asyncio.run(_run(quick))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    for entry in main(parser.parse_args().quick):
        base = f"  (baseline {entry['baseline']:,})" if "baseline" in entry else ""
        value = "n/a" if entry["value"] is None else f"{entry['value']:,}"
        note = f"  [{entry['note']}]" if entry.get("note") else ""
        print(f"{entry['name']}: {value} {entry['unit']}  (target {entry['target']:,}){base}{note}")

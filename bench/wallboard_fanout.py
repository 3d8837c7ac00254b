"""Wallboard fan-out: delivery latency and memory per connection with many screens.

    python -m bench.wallboard_fanout [--quick]

Runs the real gateway (``python -m wallboard``, one process, feeder included) on the
Shulan data set against the real Kafka and Redis, connects 250 hub screens (the city, 20
townships, 229 villages) and 5,000 operator screens (``--quick``: 1,000), publishes matter
Deltas to ``wallboard.updates`` at 100 and 1,000 matters/s (each stamped with its publish
time, keyed by matter id as streams/ does) and measures, at every screen that may see it,
the time from publish to arrival. Intake → streams is measured by ``bench.pipeline``; the
figure here is the gateway's part: Kafka → feeder → Redis stream → gateway → screen.

Operator screens are spread over hubs as a command hall would be: 10 on the city board,
20 per township, 10 per department, the rest on village boards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer
from websockets.asyncio.client import ClientConnection, connect

from gridhub.auth import issue_token
from gridhub.citydata import load_city
from gridhub.cloudevents import CloudEvent, encode
from gridhub.domain.hierarchy import City
from gridhub.kafka_admin import delete_topics_with_prefix, ensure_topics
from gridhub.keys import RedisKeys
from gridhub.settings import DEFAULT_CITY_FILE, load_settings
from gridhub.topics import Topics

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _hubs(city: City, operators: int) -> list[tuple[str, str]]:
    """250 hub screens plus ``operators`` operator screens, as (kind, code)."""
    hubs = [("city", "")] + [("township", t) for t in city.townships]
    hubs += [("village", v) for v in city.villages]
    ops: list[tuple[str, str]] = [("city", "")] * 10
    ops += [("township", t) for t in city.townships for _ in range(20)]
    ops += [("department", d) for d in city.departments for _ in range(10)]
    villages = sorted(city.villages)
    while len(ops) < operators:
        ops.append(("village", villages[len(ops) % len(villages)]))
    return hubs + ops[:operators]


class Screens:
    """Many real websockets clients recording delivery latency of stamped deltas."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.feeder: list[float] = []  # publish → appended to the Redis stream
        self.frames = 0
        self.recording = False
        self.clients: list[ClientConnection] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, port: int, token: str, hub: tuple[str, str]) -> None:
        ws = await connect(
            f"ws://127.0.0.1:{port}/ws",
            compression=None,
            open_timeout=60,
            ping_interval=None,
            max_size=None,
        )
        await ws.send(
            orjson.dumps(
                {"type": "hello", "token": token, "hub": {"kind": hub[0], "code": hub[1]}}
            ).decode()
        )
        first = orjson.loads(await ws.recv())
        assert first["type"] == "snapshot", first
        self.clients.append(ws)
        self.tasks.append(asyncio.create_task(self._read(ws)))

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for raw in ws:
                now = time.time()
                self.frames += 1
                if not self.recording:
                    continue
                frame = orjson.loads(raw)
                if frame["type"] == "delta":
                    items = [(frame["seq"], frame["delta"])]
                elif frame["type"] == "deltas":
                    items = [(i["seq"], i["delta"]) for i in frame["items"]]
                else:
                    continue
                for seq, delta in items:
                    sent = (delta.get("matter") or {}).get("bench_t")
                    if sent:
                        self.latencies.append(now - sent)
                        self.feeder.append(int(seq.split("-")[0]) / 1000 - sent)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.gather(*(ws.close() for ws in self.clients), return_exceptions=True)


def _delta(city: City, grids: list[str], n: int) -> tuple[str, dict[str, Any]]:
    grid = grids[n % len(grids)]
    village = city.village_of_grid(grid)
    township = city.villages[village].township
    dept = sorted(city.departments)[n % len(city.departments)]
    now = datetime.now(UTC).isoformat()
    mid = f"MB{n:08d}"
    matter = {
        "id": mid,
        "source": "app",
        "category": "LIV-HEATING",
        "urgency": "normal",
        "grid": grid,
        "village": village,
        "township": township,
        "description": "暖气不热，室温只有十二度",
        "attachments": [],
        "state": "accepted",
        "owner": {"kind": "village", "code": village},
        "tier": "village",
        "departments": [dept],
        "deadlines": {},
        "warning_level": "none",
        "supervised": False,
        "urge_count": 0,
        "accepted_at": now,
        "updated_at": now,
        "version": 1,
        "bench_t": time.time(),
    }
    scope = {"township": township, "village": village, "grid": grid, "departments": [dept]}
    return mid, {"kind": "matter", "scope": scope, "at": now, "matter": matter}


async def _publish(
    producer: AIOKafkaProducer, topic: str, city: City, rate: int, seconds: float, start: int
) -> int:
    grids = sorted(city.grids)
    random.Random(rate).shuffle(grids)
    sent, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < seconds:
        due = int((time.monotonic() - t0) * rate)
        while sent < due:
            mid, delta = _delta(city, grids, start + sent)
            event = CloudEvent.new("wallboard.delta", 1, source="/bench", subject=mid, data=delta)
            record = encode(event)
            await producer.send(topic, record.value, key=record.key, headers=record.headers)
            sent += 1
        await asyncio.sleep(0.005)
    await producer.flush()
    return sent


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    """``python -m wallboard ARGS``; its log goes to bench/results/."""
    name = "_".join(a.strip("-") for a in args) or "gateway"
    log = open(ROOT / "bench" / "results" / f"wallboard_{name}.log", "wb")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "wallboard", *args], env=env, cwd=ROOT, stdout=log, stderr=log
    )


async def _run(quick: bool) -> list[dict[str, Any]]:
    tag = uuid.uuid4().hex[:8]
    settings = load_settings(
        topic_prefix=f"benchwb{tag}.", redis_prefix=f"benchwb{tag}:", city_file=DEFAULT_CITY_FILE
    )
    city = load_city(settings.city_file)
    topics = Topics.from_settings(settings)
    ensure_topics(settings, [topics.wallboard, topics.alerts])
    redis = aioredis.from_url(str(settings.redis_url))
    keys = RedisKeys(settings.redis_prefix)
    token, _ = await issue_token(redis, keys, city, user="bench", role="city_operator")
    port = _free_port()
    env = {
        **os.environ,
        "GRIDHUB_TOPIC_PREFIX": settings.topic_prefix,
        "GRIDHUB_REDIS_PREFIX": settings.redis_prefix,
        "GRIDHUB_WALLBOARD_PORT": str(port),
        "GRIDHUB_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    proc = _start(env)  # one gateway process, feeder included (as `make run` starts it)
    screens = Screens()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=5)
    entries: list[dict[str, Any]] = []
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(150):
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.2)
        await producer.start()
        await asyncio.sleep(3)  # the feeder joins its group
        rss0 = _rss_kib(proc.pid)
        hubs = _hubs(city, 1000 if quick else 5000)
        for start in range(0, len(hubs), 100):
            await asyncio.gather(*(screens.open(port, token, h) for h in hubs[start : start + 100]))
        await asyncio.sleep(2)
        per_conn = (_rss_kib(proc.pid) - rss0) / len(hubs)
        entries.append(
            {
                "name": f"gateway memory per connection ({len(hubs)} screens)",
                "value": round(per_conn, 1),
                "unit": "KiB",
                "target": 100,
            }
        )
        sent_total = 0
        for rate in (100, 1000):
            seconds = 4.0 if quick else 15.0
            screens.latencies.clear()
            screens.feeder.clear()
            frames0 = screens.frames
            screens.recording = True
            sent = await _publish(producer, topics.wallboard, city, rate, seconds, sent_total)
            sent_total += sent
            await asyncio.sleep(3)  # drain
            screens.recording = False
            lat = screens.latencies
            entries += [
                {
                    "name": f"publish → screen p50 at {rate} matters/s",
                    "value": round(_pct(lat, 0.5), 1),
                    "unit": "ms",
                    "target": 250,
                },
                {
                    "name": f"publish → screen p99 at {rate} matters/s",
                    "value": round(_pct(lat, 0.99), 1),
                    "unit": "ms",
                    "target": 1000,
                },
                {
                    "name": f"publish → Redis stream (feeder) p50 at {rate} matters/s",
                    "value": round(_pct(screens.feeder, 0.5), 1),
                    "unit": "ms",
                    "target": None,
                },
                {
                    "name": f"deltas delivered at {rate} matters/s",
                    "value": len(lat),
                    "unit": f"deltas ({(screens.frames - frames0) / seconds:,.0f} frames/s)",
                    "target": None,
                },
            ]
    finally:
        await screens.close()
        with contextlib.suppress(Exception):
            await producer.stop()
        for child in (proc,):
            child.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(10)
            if child.poll() is None:
                child.kill()
        async for k in redis.scan_iter(match=f"{settings.redis_prefix}*", count=1000):
            await redis.delete(k)
        await redis.aclose()
        delete_topics_with_prefix(settings, settings.topic_prefix)
    return entries


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Run the fan-out benchmark; ``quick`` connects 1,250 screens and runs 4 s per rate."""
    return asyncio.run(_run(quick))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    for entry in main(parser.parse_args().quick):
        print(f"{entry['name']}: {entry['value']:,} {entry['unit']}  (target {entry['target']})")

"""Wallboard fan-out: delivery latency, CPU and memory per connection with many screens.

    python -m bench.wallboard_fanout [--quick] [--gateways 1 2]

Runs the real processes on the Shulan data set against the real Kafka and Redis: one feeder
(``python -m wallboard feeder``) and 1 or 2 gateways (``python -m wallboard gateway
--no-feeder``, the scaling model: screens are spread over the gateways). It connects 250
hub screens (the city, 20 townships, 229 villages) and 5,000 operator screens (``--quick``:
1,000, one gateway), spread over several client *processes* so the client side is not the
bottleneck, publishes matter Deltas to ``wallboard.updates`` at 100 and 1,000 matters/s
(each stamped with its publish time, keyed by matter id as streams/ does) and measures, at
every screen that may see it:

- publish → screen (p50/p99 over every delivery): Kafka → feeder → Redis stream → gateway →
  screen. Intake → streams is measured by ``bench.pipeline``; add the two for end-to-end.
- fan-out to all (p50/p99 over deltas): from the delta entering the Redis stream until the
  *last* screen that may see it has it.
- publish → Redis stream (the feeder's part), deliveries vs. expected, CPU of each side.

Physical limits, measured in the same run on the same client processes: a bare websockets
server (``websockets.broadcast``, no Redis, no Kafka) sending one 1 KB frame to all the
screens (time until the last one has it, and its server cost per connection), and a Redis
XADD → blocking XREAD round trip. Memory per connection is the gateways' RSS growth while
the screens connect; idle CPU with every screen connected shows the keepalive cost (pings
every 20 s, the default: 250 pings/s at 5,000 screens per gateway; in-process experiments
showed pings every 5 s at 1,250 screens, the same ping rate, raising p50 from ~0.1 s to
~0.8 s, because connections opened together ping together).

Operator screens are spread over hubs as a command hall would be: 10 on the city board,
20 per township, 10 per department, the rest on village boards.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import orjson
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

from gridhub.auth import issue_token
from gridhub.citydata import load_city
from gridhub.cloudevents import CloudEvent, encode
from gridhub.domain.hierarchy import City
from gridhub.kafka_admin import delete_topics_with_prefix, ensure_topics
from gridhub.keys import RedisKeys
from gridhub.settings import DEFAULT_CITY_FILE, load_settings
from gridhub.topics import Topics
from wallboard.scope import hub_keys

ROOT = Path(__file__).resolve().parent.parent
CLIENT_PROCESSES = 4
PING_INTERVAL = 20.0  # the production default (settings.wallboard_ping_interval)
Hub = tuple[str, str]


_T0 = time.monotonic()


def _phase(name: str) -> None:
    """Progress on stderr (the entries go to stdout)."""
    print(f"[{time.monotonic() - _T0:5.1f} s] {name}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _hubs(city: City, operators: int) -> list[Hub]:
    """250 hub screens plus ``operators`` operator screens, as (kind, code)."""
    hubs = [("city", "")] + [("township", t) for t in city.townships]
    hubs += [("village", v) for v in city.villages]
    ops: list[Hub] = [("city", "")] * 10
    ops += [("township", t) for t in city.townships for _ in range(20)]
    ops += [("department", d) for d in city.departments for _ in range(10)]
    villages = sorted(city.villages)
    while len(ops) < operators:
        ops.append(("village", villages[len(ops) % len(villages)]))
    return hubs + ops[:operators]


def _key(hub: Hub) -> str:
    return "city" if hub[0] == "city" else f"{hub[0]}:{hub[1]}"


# --- the client processes ---------------------------------------------------------------


class Screens:
    """The screens of one client process: real websockets clients recording, for every
    stamped delta, its publish → arrival time and, per matter, the last arrival."""

    def __init__(self) -> None:
        self.clients: list[ClientConnection] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.recording = False
        self.frames = 0
        self._reset()

    def _reset(self) -> None:
        self.latencies = array.array("d")  # publish → arrival, per delivery
        self.matters: dict[str, list[float]] = {}  # id → [published, in stream, last, count]

    async def open(self, port: int, token: str, hub: Hub) -> None:
        for attempt in range(6):  # a screen retries a refused connect, as the page does
            try:
                return await self._open(port, token, hub)
            except (OSError, AssertionError, ConnectionClosed, TimeoutError):
                if attempt == 5:
                    raise
                await asyncio.sleep(0.5 * 2**attempt)

    async def _open(self, port: int, token: str, hub: Hub) -> None:
        ws = await connect(
            f"ws://127.0.0.1:{port}/ws",
            compression=None,
            open_timeout=120,
            ping_interval=None,
            max_size=None,
            max_queue=None,
        )
        hello = {"type": "hello", "token": token, "hub": {"kind": hub[0], "code": hub[1]}}
        await ws.send(orjson.dumps(hello).decode())
        try:
            first = orjson.loads(await ws.recv(decode=False))
            assert first["type"] == "snapshot", first
        except BaseException:
            await ws.close()
            raise
        self.clients.append(ws)
        self.tasks.append(asyncio.create_task(self._read(ws)))

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            while True:
                raw = await ws.recv(decode=False)
                now = time.time()
                self.frames += 1
                if not self.recording or b'"bench_t"' not in raw:
                    continue
                frame = orjson.loads(raw)
                if frame["type"] == "delta":
                    items = [(frame["seq"], frame["delta"])]
                else:
                    items = [(i["seq"], i["delta"]) for i in frame.get("items", ())]
                for seq, delta in items:
                    matter = delta.get("matter") or {}
                    sent = matter.get("bench_t")
                    if not sent:
                        continue
                    self.latencies.append(now - sent)
                    seen = self.matters.get(matter["id"])
                    if seen is None:
                        stream = int(seq.split("-")[0]) / 1000 if seq != "0-0" else sent
                        self.matters[matter["id"]] = [sent, stream, now, 1]
                    else:
                        seen[2] = max(seen[2], now)
                        seen[3] += 1

    async def open_all(self, ports: list[int], token: str, hubs: list[tuple[int, Hub]]) -> None:
        gate = asyncio.Semaphore(50)

        async def one(index: int, hub: Hub) -> None:
            async with gate:
                await self.open(ports[index % len(ports)], token, hub)

        await asyncio.gather(*(one(i, h) for i, h in hubs))

    async def close_all(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.gather(*(ws.close() for ws in self.clients), return_exceptions=True)
        self.clients.clear()
        self.tasks.clear()

    def collect(self) -> dict[str, Any]:
        out = {
            "latencies": self.latencies.tobytes(),
            "matters": self.matters,
            "frames": self.frames,
            "cpu": time.process_time(),
        }
        self._reset()
        return out


async def _client_main(pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    screens = Screens()
    while True:
        command, args = await loop.run_in_executor(None, pipe.recv)
        if command == "connect":
            await screens.open_all(*args)
            pipe.send(len(screens.clients))
        elif command == "record":
            screens.recording = bool(args)
            pipe.send(time.process_time())
        elif command == "collect":
            pipe.send(screens.collect())
        elif command == "disconnect":
            await screens.close_all()
            pipe.send(0)
        else:
            pipe.send(0)
            return


def _client_process(pipe: Connection) -> None:
    asyncio.run(_client_main(pipe))


class Clients:
    """The client processes, driven over pipes."""

    def __init__(self, count: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs = []
        for _ in range(count):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_client_process, args=(theirs,), daemon=True)
            proc.start()
            self.pipes.append(mine)
            self.procs.append(proc)

    async def ask(self, command: str, per_process: Sequence[Any] | None = None) -> list[Any]:
        loop = asyncio.get_running_loop()
        for n, pipe in enumerate(self.pipes):
            pipe.send((command, per_process[n] if per_process is not None else None))
        return list(await asyncio.gather(*(loop.run_in_executor(None, p.recv) for p in self.pipes)))

    async def connect(self, ports: list[int], token: str, hubs: list[Hub]) -> None:
        shares: list[list[tuple[int, Hub]]] = [[] for _ in self.pipes]
        for index, hub in enumerate(hubs):
            shares[index % len(shares)].append((index, hub))
        await self.ask("connect", [(ports, token, share) for share in shares])

    async def collect(self) -> dict[str, Any]:
        merged: dict[str, Any] = {"latencies": array.array("d"), "matters": {}, "frames": 0}
        merged["cpu"] = 0.0
        for part in await self.ask("collect"):
            merged["latencies"].frombytes(part["latencies"])
            merged["frames"] += part["frames"]
            merged["cpu"] += part["cpu"]
            for mid, (sent, stream, last, count) in part["matters"].items():
                seen = merged["matters"].get(mid)
                if seen is None:
                    merged["matters"][mid] = [sent, stream, last, count]
                else:
                    seen[2] = max(seen[2], last)
                    seen[3] += count
        return merged

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ask("exit"), 30)
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()


# --- the physical-limit baselines -------------------------------------------------------


async def _raw_server_main(pipe: Connection, port: int) -> None:
    """A bare websockets server: answers a hello with a snapshot, then only broadcasts."""
    loop = asyncio.get_running_loop()
    connections: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send('{"type":"snapshot","seq":"0-0"}')
        connections.add(ws)
        try:
            await ws.wait_closed()
        finally:
            connections.discard(ws)

    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None):
        pipe.send("ready")
        while True:
            command, args = await loop.run_in_executor(None, pipe.recv)
            if command != "broadcast":
                pipe.send(0)
                return
            count, gap = args
            costs = []
            for n in range(count):
                matter = {"id": f"RAW{n}", "bench_t": time.time(), "text": "x" * 1000}
                frame = {"type": "delta", "seq": "0-0", "delta": {"matter": matter}}
                started = time.process_time()  # CPU: preemption on a busy machine excluded
                broadcast(connections, orjson.dumps(frame), text=True)
                costs.append(time.process_time() - started)
                await asyncio.sleep(gap)
            pipe.send((len(connections), costs))


def _raw_server_process(pipe: Connection, port: int) -> None:
    asyncio.run(_raw_server_main(pipe, port))


async def _raw_broadcast(
    clients: Clients, token: str, hubs: list[Hub], repeats: int
) -> dict[str, float]:
    """One 1 KB frame to every screen with ``websockets.broadcast``, ``repeats`` times."""
    ctx = multiprocessing.get_context("spawn")
    mine, theirs = ctx.Pipe()
    port = _free_port()
    proc = ctx.Process(target=_raw_server_process, args=(theirs, port), daemon=True)
    proc.start()
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, mine.recv)
        await clients.connect([port], token, hubs)
        await clients.ask("record", [True] * len(clients.pipes))
        mine.send(("broadcast", (repeats, 0.4)))
        connected, costs = await loop.run_in_executor(None, mine.recv)
        await asyncio.sleep(1.0)
        await clients.ask("record", [False] * len(clients.pipes))
        got = await clients.collect()
        await clients.ask("disconnect")
        mine.send(("exit", None))
        await loop.run_in_executor(None, mine.recv)
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
    complete = [
        last - sent for sent, _, last, count in got["matters"].values() if count >= connected
    ]
    return {
        "all_p50": _pct(complete, 0.5),
        "all_p99": _pct(complete, 0.99),
        "complete": len(complete),
        "server_us_per_conn": _pct(costs, 0.5) / 1000 / max(1, connected) * 1e6,
        "server_ms": _pct(costs, 0.5),
    }


async def _redis_round_trip(redis: Any, key: str, count: int) -> list[float]:
    """XADD → blocking XREAD on a second connection: the floor of the stream hop."""
    reader: Any = redis.client()
    out: list[float] = []

    async def read() -> None:
        last = "$"
        while len(out) < count:
            for _, entries in await reader.xread({key: last}, 100, 2000) or []:
                now = time.time()
                for entry_id, fields in entries:
                    out.append(now - float(fields[b"t"]))
                    last = entry_id

    task = asyncio.create_task(read())
    await asyncio.sleep(0.1)
    for _ in range(count):
        await redis.xadd(key, {"t": repr(time.time())})
        await asyncio.sleep(0.005)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(task, 5)
    await redis.delete(key)
    await reader.aclose()
    return out


# --- the load ---------------------------------------------------------------------------


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
    producer: AIOKafkaProducer,
    topic: str,
    city: City,
    rate: int,
    seconds: float,
    start: int,
    audience: dict[str, int],
) -> tuple[int, int]:
    """Publish at ``rate`` for ``seconds``; returns (sent, deliveries expected)."""
    grids = sorted(city.grids)
    random.Random(rate).shuffle(grids)
    sent, expected, t0 = 0, 0, time.monotonic()
    while time.monotonic() - t0 < seconds:
        due = int((time.monotonic() - t0) * rate)
        while sent < due:
            mid, delta = _delta(city, grids, start + sent)
            expected += sum(audience.get(k, 0) for k in hub_keys(delta, city))
            event = CloudEvent.new("wallboard.delta", 1, source="/bench", subject=mid, data=delta)
            record = encode(event)
            await producer.send(topic, record.value, key=record.key, headers=record.headers)
            sent += 1
        await asyncio.sleep(0.005)
    await producer.flush()
    return sent, expected


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def _start(env: dict[str, str], name: str, *args: str) -> subprocess.Popen[bytes]:
    """``python -m wallboard ARGS``; its log goes to bench/results/."""
    log = open(ROOT / "bench" / "results" / f"wallboard_{name}.log", "wb")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "wallboard", *args], env=env, cwd=ROOT, stdout=log, stderr=log
    )


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        if proc.poll() is None:
            proc.kill()


async def _healthy(port: int) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"gateway on {port} never became healthy")


def _launch(gateways: int, env: dict[str, str]) -> tuple[list[int], list[Any]]:
    """Start ``gateways`` gateway processes (without feeders) on free ports."""
    ports = [_free_port() for _ in range(gateways)]
    procs = [
        _start(
            {**env, "GRIDHUB_WALLBOARD_PORT": str(port)},
            f"gateway{n + 1}_of_{gateways}",
            "gateway",
            "--no-feeder",
        )
        for n, port in enumerate(ports)
    ]
    return ports, procs


async def _scenario(
    *,
    gateways: int,
    launched: tuple[list[int], list[Any]],
    env: dict[str, str],
    clients: Clients,
    token: str,
    hubs: list[Hub],
    city: City,
    producer: AIOKafkaProducer,
    topic: str,
    seconds: float,
    published: int,
    raw: dict[str, float],
    idle_seconds: float,
    drain: float,
) -> tuple[list[dict[str, Any]], int]:
    """Connect every screen to the ``launched`` gateways, publish at each rate, measure."""
    ports, procs = launched
    tag = f"[{gateways} gateway{'s' if gateways > 1 else ''}, {len(hubs):,} screens]"
    entries: list[dict[str, Any]] = []
    audience: dict[str, int] = {}
    for hub in hubs:
        audience[_key(hub)] = audience.get(_key(hub), 0) + 1
    try:
        await asyncio.gather(*(_healthy(port) for port in ports))
        _phase(f"{tag} gateways up")
        await asyncio.sleep(1)
        rss0 = sum(_rss_kib(p.pid) for p in procs)
        await clients.connect(ports, token, hubs)
        _phase(f"{tag} screens connected")
        await asyncio.sleep(2)
        per_conn = (sum(_rss_kib(p.pid) for p in procs) - rss0) / len(hubs)
        entries.append(
            {
                "name": f"{tag} gateway memory per connection",
                "value": round(per_conn, 1),
                "unit": "KiB",
                "target": 100,
            }
        )
        cpu0, idle = sum(_cpu_seconds(p.pid) for p in procs), idle_seconds
        await asyncio.sleep(idle)
        entries.append(
            {
                "name": f"{tag} gateway CPU idle (pings every {PING_INTERVAL:g} s)",
                "value": round((sum(_cpu_seconds(p.pid) for p in procs) - cpu0) / idle * 100, 1),
                "unit": "% of a core",
                "target": None,
            }
        )
        for rate in (100, 1000):
            await clients.collect()  # drop what came before
            cpu_gw = sum(_cpu_seconds(p.pid) for p in procs)
            cpu_cl = sum(await clients.ask("record", [True] * len(clients.pipes)))
            started = time.monotonic()
            _phase(f"{tag} publishing at {rate}/s")
            sent, expected = await _publish(
                producer, topic, city, rate, seconds, published, audience
            )
            published += sent
            await asyncio.sleep(drain)
            elapsed = time.monotonic() - started
            cpu_cl = sum(await clients.ask("record", [False] * len(clients.pipes))) - cpu_cl
            cpu_gw = sum(_cpu_seconds(p.pid) for p in procs) - cpu_gw
            got = await clients.collect()
            lat = got["latencies"]
            matters = got["matters"].values()
            per_delta = [last - stream for _, stream, last, _ in matters]
            feeder = [stream - sent_at for sent_at, stream, _, _ in matters]
            at = f"at {rate:,} matters/s"
            entries += [
                {
                    "name": f"{tag} publish → screen p50 {at}",
                    "value": round(_pct(lat, 0.5), 1),
                    "unit": "ms",
                    "target": 250,
                },
                {
                    "name": f"{tag} publish → screen p99 {at}",
                    "value": round(_pct(lat, 0.99), 1),
                    "unit": "ms",
                    "target": 200 if rate == 1000 else 1000,
                },
                {
                    "name": f"{tag} fan-out p50 (stream → last screen of a delta) {at}",
                    "value": round(_pct(per_delta, 0.5), 1),
                    "unit": "ms",
                    "target": None,
                    "baseline": round(raw["all_p50"], 1),
                },
                {
                    "name": f"{tag} fan-out p99 (stream → last screen of a delta) {at}",
                    "value": round(_pct(per_delta, 0.99), 1),
                    "unit": "ms",
                    "target": 200,
                    "baseline": round(raw["all_p99"], 1),
                },
                {
                    "name": f"{tag} publish → Redis stream (Kafka + feeder) p50/p99 {at}",
                    "value": round(_pct(feeder, 0.5), 1),
                    "unit": f"ms (p99 {_pct(feeder, 0.99):,.0f} ms)",
                    "target": None,
                },
                {
                    "name": f"{tag} deliveries {at}",
                    "value": len(lat),
                    "unit": f"of {expected:,} expected ({got['frames'] / elapsed:,.0f} frames/s)",
                    "target": expected,
                },
                {
                    "name": f"{tag} gateway CPU per delivered delta {at}",
                    "value": round(cpu_gw / max(1, len(lat)) * 1e6, 1),
                    "unit": "µs (baseline: websockets.broadcast per connection and message)",
                    "target": None,
                    "baseline": round(raw["server_us_per_conn"], 1),
                },
                {
                    "name": f"{tag} CPU during the run {at}",
                    "value": round(cpu_gw / elapsed * 100, 1),
                    "unit": f"% of a core, gateways (clients: {cpu_cl / elapsed * 100:.0f}%)",
                    "target": None,
                },
            ]
    finally:
        await clients.ask("disconnect")
        _stop(procs)
    return entries, published


async def _run(quick: bool, gateway_counts: list[int]) -> list[dict[str, Any]]:
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
    env = {
        **os.environ,
        "GRIDHUB_TOPIC_PREFIX": settings.topic_prefix,
        "GRIDHUB_REDIS_PREFIX": settings.redis_prefix,
        "GRIDHUB_WALLBOARD_PING_INTERVAL": str(PING_INTERVAL),
        "GRIDHUB_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    hubs = _hubs(city, 1000 if quick else 5000)
    seconds = 3.0 if quick else 10.0
    services = [_start(env, "feeder", "feeder", "--no-summaries")]
    services.append(_start(env, "summarizer", "summarizer"))
    launched = _launch(gateway_counts[0], env)  # starts while the baselines run
    clients = Clients(2 if quick else CLIENT_PROCESSES)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=5)
    entries: list[dict[str, Any]] = []
    try:
        await producer.start()
        trips = await _redis_round_trip(redis, f"{settings.redis_prefix}rtt", 200)
        entries.append(
            {
                "name": "physical limit: Redis XADD → blocking XREAD p50/p99",
                "value": round(_pct(trips, 0.5), 2),
                "unit": f"ms (p99 {_pct(trips, 0.99):.2f} ms)",
                "target": None,
            }
        )
        _phase("raw websockets baseline")
        raw = await _raw_broadcast(clients, token, hubs, 5 if quick else 10)
        entries.append(
            {
                "name": f"physical limit: websockets.broadcast of 1 KB to {len(hubs):,} "
                "screens, p50/p99 until the last has it",
                "value": round(raw["all_p50"], 1),
                "unit": f"ms (p99 {raw['all_p99']:,.0f} ms; server "
                f"{raw['server_us_per_conn']:.1f} µs per connection)",
                "target": None,
            }
        )
        published = 0
        for n, count in enumerate(gateway_counts):
            found, published = await _scenario(
                gateways=count,
                launched=launched if n == 0 else _launch(count, env),
                env=env,
                clients=clients,
                token=token,
                hubs=hubs,
                city=city,
                producer=producer,
                topic=topics.wallboard,
                seconds=seconds,
                published=published,
                raw=raw,
                idle_seconds=3.0 if quick else PING_INTERVAL,
                drain=2.0 if quick else 3.0,
            )
            entries += found
    finally:
        await clients.close()
        with contextlib.suppress(Exception):
            await producer.stop()
        _stop(services + launched[1])
        async for k in redis.scan_iter(match=f"{settings.redis_prefix}*", count=1000):
            await redis.delete(k)
        await redis.aclose()
        delete_topics_with_prefix(settings, settings.topic_prefix)
    return entries


def main(quick: bool = False, gateways: list[int] | None = None) -> list[dict[str, Any]]:
    """Run the fan-out benchmark; ``quick`` connects 1,250 screens to one gateway and runs 3 s
    per rate; the full run measures 5,250 screens on 1 and on 2 gateways."""
    return asyncio.run(_run(quick, gateways or ([1] if quick else [1, 2])))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--gateways", type=int, nargs="+", help="gateway counts to measure")
    options = parser.parse_args()
    for entry in main(options.quick, options.gateways):
        base = f", baseline {entry['baseline']:,}" if entry.get("baseline") is not None else ""
        print(
            f"{entry['name']}: {entry['value']:,} {entry['unit']}  (target {entry['target']}{base})"
        )

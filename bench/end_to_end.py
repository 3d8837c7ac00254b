"""End to end: a matter POSTed to intake → its delta on every wallboard screen that shows it.

    python -m bench.end_to_end [--quick] [--gateways 1 2]

Starts the real system (:mod:`bench.system`: the Shulan data set, the real Kafka and
Redis, the processes as scripts/services.sh runs them): intake (``python -m connectors``),
the stream worker, the wallboard feeder and summarizer, and one gateway (``--gateways``:
several, the scaling model; screens are spread over them), with the production settings
(batch wait, pings every 20 s). It connects 250 hub screens (the city, 20 townships, 229
villages) and 5,000 operator screens (10 on the city board, 20 per township, 10 per
department, the rest on village boards; ``--quick``: the city, the townships and 9 village
hub screens and 30 operator screens in the same proportions), spread over client
*processes* so that the client side is not one GIL. Then it POSTs hotline calls to intake
(``POST /v1/hotlines/12345/calls`` with an intake API key) at 100 and at 1,000 matters/s for
10 s each (``--quick``: 0.5 s each). Intake has no batch endpoint over HTTP, so an open-loop
schedule is kept by up to 64 concurrent HTTP clients (aiohttp, in this process); when
intake cannot keep up, the schedule slips and the achieved rate (accepted/s) is reported
next to the offered one. One intake process takes a few hundred POSTs/s on this 2-core
machine, so a third run publishes intake records (what intake publishes once it has
accepted a POST) straight to ``matters.intake`` at 1,000/s: the rest of the path at the
full rate. Per matter it measures:

- POST (record) → first screen, p50/p99: the end-to-end latency (intake → Kafka →
  streams/ → Kafka → feeder → Redis stream → gateway → screen);
- POST (record) → all screens, p50/p99: until the *last* screen that may see it has it
  (every screen of a hub in ``wallboard.scope.hub_keys`` of its delta): the fan-out, over
  the matters that reached all of them (how many did is reported);
- the parts: POST → 2xx (record → ack), POST → Redis stream entry (intake, Kafka, streams/
  and the feeder; the entry id is the Redis clock in ms), stream entry → last screen;
- deliveries vs expected, and the CPU each process used during the run.

Memory per connection is the gateways' RSS growth while the screens connect, divided by
the screens. Physical limits, measured in the same run with the same client processes: a
bare websockets server (``websockets.broadcast``, no Redis, no Kafka) sending a 1 KB frame
to all the screens (until the last one has it; its server CPU per connection), and a Redis
XADD → blocking XREAD round trip. Process logs: ``.local/bench/end_to_end/`` (in a quick
run of every benchmark, ``.local/bench/quick/``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from bench.screens import Clients, Hub, raw_server_process
from bench.support import Phases, cpu_seconds, pct, rss_kib
from bench.system import FAST_CATEGORY, BenchSystem, own_or_shared
from gridhub.cloudevents import KafkaRecord, encode
from gridhub.domain.hierarchy import City
from gridhub.intake import IntakeMatter, Source, intake_event, matter_id_for
from gridhub.settings import Settings
from gridhub.topics import Topics
from tests.support.system import System
from tests.support.uvicorn_thread import free_port
from wallboard.scope import hub_keys

CALLS = "/v1/hotlines/12345/calls"
HTTP_CLIENTS = 64
TARGET_P99_MS = 200.0  # POST → screen at 1,000 matters/s (the target)
TARGET_MEMORY_KIB = 100.0
_phase = Phases("end_to_end")


def ms(values: Sequence[float], q: float) -> float:
    """A quantile of seconds, in ms."""
    return pct(values, q, 1000.0)


@dataclass(frozen=True)
class Sizes:
    """How much a run does."""

    hub_screens: int  # of the 250: the city, the 20 townships, then villages
    operators: int  # operator screens besides them
    client_processes: int
    seconds: float  # per rate
    broadcasts: int  # raw websockets baseline frames
    gap: float  # seconds between them
    drain: float  # longest wait for the last deliveries after the last POST
    quiet: float  # no delivery for this long: the last has arrived

    @classmethod
    def of(cls, quick: bool) -> Sizes:
        if quick:
            return cls(
                hub_screens=30,
                operators=30,
                client_processes=1,
                seconds=0.5,
                broadcasts=3,
                gap=0.1,
                drain=8.0,
                quiet=0.3,
            )
        return cls(
            hub_screens=250,
            operators=5000,
            client_processes=4,
            seconds=10.0,
            broadcasts=10,
            gap=0.4,
            drain=30.0,
            quiet=1.0,
        )


def _hubs(city: City, hub_screens: int, operators: int) -> list[Hub]:
    """``hub_screens`` of the 250 hub screens (the city, the townships, then villages) and
    ``operators`` operator screens, as (kind, code). The full operator mix is 10 on the city
    board, 20 per township, 10 per department and the rest on village boards; fewer
    operators are an even sample of that mix, on the boards that have a hub screen."""
    hubs: list[Hub] = [("city", "")] + [("township", t) for t in city.townships]
    hubs += [("village", v) for v in city.villages]
    hubs = hubs[:hub_screens]
    villages = sorted(v for kind, v in hubs if kind == "village")
    ops: list[Hub] = [("city", "")] * 10
    ops += [("township", t) for t in city.townships for _ in range(20)]
    ops += [("department", d) for d in city.departments for _ in range(10)]
    while len(ops) < 5000:
        ops.append(("village", villages[len(ops) % len(villages)]))
    step = max(1, len(ops) // max(1, operators))
    return hubs + ops[::step][:operators]


def _key(hub: Hub) -> str:
    return "city" if hub[0] == "city" else f"{hub[0]}:{hub[1]}"


# --- the physical-limit baselines -------------------------------------------------------


async def _raw_broadcast(
    clients: Clients, token: str, hubs: list[Hub], repeats: int, gap: float
) -> dict[str, float]:
    """One 1 KB frame to every screen with ``websockets.broadcast``, ``repeats`` times."""
    ctx = multiprocessing.get_context("spawn")
    mine, theirs = ctx.Pipe()
    port = free_port()
    proc = ctx.Process(target=raw_server_process, args=(theirs, port), daemon=True)
    proc.start()
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, mine.recv)
        await clients.connect([port], token, hubs)
        _phase(f"raw websockets server: {len(hubs):,} screens connected")
        mine.send(("broadcast", (repeats, gap)))
        connected, sent, costs = await loop.run_in_executor(None, mine.recv)
        await clients.settle(0.3, 5.0)
        matters, _ = await clients.collect()
        await clients.ask("disconnect")
        mine.send(("exit", None))
        await loop.run_in_executor(None, mine.recv)
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
    complete = [m[1] - sent[mid] for mid, m in matters.items() if m[2] >= connected]
    return {
        "all_p50": ms(complete, 0.5),
        "all_p99": ms(complete, 0.99),
        "server_us_per_conn": pct(costs, 0.5) / max(1, connected) * 1e6,
    }


async def _redis_round_trip(system: System, count: int) -> list[float]:
    """XADD → blocking XREAD on a second connection: the floor of the stream hop."""
    key = f"{system.settings.redis_prefix}bench:rtt"
    writer: Any = system.redis()
    reader: Any = system.redis()
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
    try:
        await asyncio.sleep(0.1)
        for _ in range(count):
            await writer.xadd(key, {"t": repr(time.time())})
            await asyncio.sleep(0.005)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(task, 5)
    finally:
        task.cancel()
        await writer.delete(key)
        await writer.aclose()
        await reader.aclose()
    return out


# --- the load ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Post:
    """One submission: its matter id, when it was sent and answered (epoch s), the status."""

    matter_id: str
    sent: float
    answered: float
    status: int


class Load:
    """Matters of every category but BENCH-FAST over every grid, numbered in one series."""

    #: How the entries name the load, one submission and its answer.
    label = ""
    sent_as = ""
    answer = ""

    def __init__(self, city: City, tag: str) -> None:
        self.tag = tag
        self.grids = sorted(city.grids)
        random.Random(7).shuffle(self.grids)
        self.categories = sorted(c for c in city.categories if c != FAST_CATEGORY)
        self.count = 0

    def _next(self) -> tuple[str, str, str]:
        """(source id, category, grid) of the next matter."""
        n = self.count
        self.count += 1
        return (
            f"{self.tag}-{n}",
            self.categories[n % len(self.categories)],
            self.grids[n % len(self.grids)],
        )

    async def run(self, rate: float, seconds: float) -> tuple[list[Post], float]:
        """Submit at ``rate`` for ``seconds``; every answer, and the time from the first
        submission to the last answer."""
        raise NotImplementedError

    @staticmethod
    def _span(posts: list[Post]) -> float:
        return max(p.answered for p in posts) - min(p.sent for p in posts) if posts else 0.0


class Poster(Load):
    """Hotline calls POSTed to intake on an open-loop schedule by concurrent HTTP clients."""

    label, sent_as, answer = "intake POSTs", "POST", "2xx"

    def __init__(self, url: str, key: str, city: City, tag: str) -> None:
        super().__init__(city, tag)
        self.url, self.key = url, key

    def _call(self) -> tuple[str, bytes]:
        call_id, category, grid = self._next()
        body = {
            "call_id": call_id,
            "category": category,
            "content": f"bench call {call_id}: 暖气不热，室温只有十二度",
            "grid": grid,
            "caller_phone": "13800000000",
        }
        return matter_id_for(Source.HOTLINE_12345, call_id), orjson.dumps(body)

    async def run(self, rate: float, seconds: float) -> tuple[list[Post], float]:
        """POST at ``rate`` for ``seconds`` (no new POST after that; when all the clients
        wait for answers, the schedule slips)."""
        posts: list[Post] = []
        gate = asyncio.Semaphore(HTTP_CLIENTS)
        headers = {"X-Api-Key": self.key, "Content-Type": "application/json"}
        connector = aiohttp.TCPConnector(limit=HTTP_CLIENTS)
        async with aiohttp.ClientSession(
            base_url=self.url, headers=headers, connector=connector
        ) as http:

            async def one(mid: str, body: bytes) -> None:
                sent, status = time.time(), 0
                try:
                    async with http.post(CALLS, data=body) as resp:
                        answer = await resp.read()
                        status = resp.status
                        if status in (200, 201) and orjson.loads(answer)["matter_id"] != mid:
                            raise AssertionError(f"intake named the matter otherwise: {answer!r}")
                except aiohttp.ClientError:
                    pass
                finally:
                    gate.release()
                posts.append(Post(mid, sent, time.time(), status))

            tasks: list[asyncio.Task[None]] = []
            started, issued = time.monotonic(), 0
            deadline = started + seconds
            while (now := time.monotonic()) < deadline:
                if issued >= int((now - started) * rate) + 1:
                    await asyncio.sleep(0.002)  # ahead of the schedule
                    continue
                await gate.acquire()  # all clients busy: the schedule slips (reported)
                if time.monotonic() >= deadline:
                    gate.release()
                    break
                tasks.append(asyncio.create_task(one(*self._call())))
                issued += 1
            await asyncio.gather(*tasks)
        return posts, self._span(posts)


class Publisher(Load):
    """Intake records (what intake publishes once it has answered a POST) sent straight to
    ``matters.intake`` with an acks=all producer: the pipeline at rates intake's HTTP layer
    cannot take on this machine."""

    label, sent_as, answer = "records to matters.intake", "record", "ack"

    def __init__(self, settings: Settings, city: City, tag: str) -> None:
        super().__init__(city, tag)
        self.settings = settings
        self.topic = Topics.from_settings(settings).intake

    def _records(self, n: int) -> list[tuple[str, KafkaRecord]]:
        out = []
        now = datetime.now(UTC)
        for _ in range(n):
            source_id, category, grid = self._next()
            matter = IntakeMatter(
                matter_id=matter_id_for(Source.HOTLINE_12345, source_id),
                source=Source.HOTLINE_12345,
                source_id=source_id,
                received_at=now,
                category=category,
                grid=grid,
                description=f"bench record {source_id}: 暖气不热，室温只有十二度",
            )
            out.append((matter.matter_id, encode(intake_event(matter))))
        return out

    async def run(self, rate: float, seconds: float) -> tuple[list[Post], float]:
        """Publish at ``rate`` for ``seconds`` (records built beforehand)."""
        records = self._records(int(rate * seconds))
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
        )
        await producer.start()
        posts: list[Post] = []
        acked: dict[str, float] = {}
        try:
            futures = []
            started = time.monotonic()
            for n, (mid, record) in enumerate(records):
                delay = started + n / rate - time.monotonic()
                if delay > 0.002:
                    await asyncio.sleep(delay)
                sent = time.time()
                future = await producer.send(
                    self.topic, record.value, key=record.key, headers=record.headers
                )
                future.add_done_callback(lambda _, mid=mid: acked.setdefault(mid, time.time()))
                futures.append((mid, sent, future))
            for mid, sent, future in futures:
                with contextlib.suppress(KafkaError):
                    await future
                ok = future.exception() is None
                posts.append(Post(mid, sent, acked.get(mid, time.time()), 201 if ok else 0))
        finally:
            await producer.stop()
        return posts, self._span(posts)


# --- one scenario -----------------------------------------------------------------------


def _cpu(system: System, names: Sequence[str]) -> dict[str, float]:
    return {name: cpu_seconds(system.procs[name].pid) for name in names if name in system.procs}


async def _measure_rate(
    system: System,
    clients: Clients,
    poster: Load,
    audience: dict[str, int],
    rate: int,
    sizes: Sizes,
    tag: str,
    raw: dict[str, float],
) -> list[dict[str, Any]]:
    """Submit at ``rate``, wait for the deliveries to settle, and measure (module doc)."""
    city = system.city
    names = ["intake", "streams", "feeder", "summarizer", *system.gateway_names]
    await clients.collect()  # drop what came before
    cpu0, (_, frames0, client_cpu0) = _cpu(system, names), await clients.stats()
    own0 = time.process_time()
    started = time.monotonic()
    _phase(f"{tag} {poster.label} at {rate:,}/s")
    posts, span = await poster.run(rate, sizes.seconds)
    posting = time.monotonic() - started
    accepted_ids = [p.matter_id for p in posts if p.status in (200, 201)]
    await clients.settle(sizes.quiet, sizes.drain, accepted_ids)
    elapsed = time.monotonic() - started
    cpu1, (_, frames1, client_cpu1) = _cpu(system, names), await clients.stats()
    own = time.process_time() - own0
    matters, deltas = await clients.collect()

    accepted = [p for p in posts if p.status in (200, 201)]
    answer = [p.answered - p.sent for p in accepted]
    first, stream_in, fan_out, to_all = [], [], [], []
    expected_total = delivered_total = complete = 0
    for post in accepted:
        got = matters.get(post.matter_id)
        delta = deltas.get(post.matter_id)
        if got is None or delta is None:
            continue
        first_at, last_at, screens, stream_at = got
        expected = sum(audience.get(k, 0) for k in hub_keys(delta, city))
        expected_total += expected
        delivered_total += int(screens)
        first.append(first_at - post.sent)
        stream_in.append(stream_at - post.sent)
        if screens >= expected:
            complete += 1
            to_all.append(last_at - post.sent)
            fan_out.append(last_at - stream_at)
    missing = len(accepted) - len(first)
    achieved = len(accepted) / span if span else 0.0
    at = f"at {rate:,}/s"
    cpu = {n: (cpu1[n] - cpu0.get(n, cpu1[n])) / elapsed * 100 for n in cpu1}
    gateways = sum(v for n, v in cpu.items() if n.startswith("gateway"))
    cpu_note = (
        f"% of a core: intake {cpu['intake']:.0f}, streams {cpu['streams']:.0f}, feeder "
        f"{cpu['feeder']:.0f}, summarizer {cpu['summarizer']:.0f}, gateways {gateways:.0f}, "
        f"screens {(client_cpu1 - client_cpu0) / elapsed * 100:.0f}, load "
        f"{own / elapsed * 100:.0f}"
    )
    x, label = poster.sent_as, poster.label
    target = f"< {TARGET_P99_MS:g}" if rate == 1000 else None
    return [
        {
            "name": f"{tag} {label} {at} offered: achieved",
            "value": round(achieved, 1),
            "unit": f"matters/s ({len(accepted):,} accepted of {len(posts):,} sent in "
            f"{posting:.1f} s, {len(posts) - len(accepted)} refused)",
            "target": rate,
        },
        {
            "name": f"{tag} {x} → {poster.answer} p50 {at}",
            "value": round(ms(answer, 0.5), 1),
            "unit": f"ms (p99 {ms(answer, 0.99):,.0f} ms)",
            "target": None,
        },
        {
            "name": f"{tag} end to end: {x} → first screen p50 {at}",
            "value": round(ms(first, 0.5), 1),
            "unit": "ms",
            "target": None,
        },
        {
            "name": f"{tag} end to end: {x} → first screen p99 {at}",
            "value": round(ms(first, 0.99), 1),
            "unit": "ms",
            "target": target,
        },
        {
            "name": f"{tag} fan-out: {x} → all its screens p50 {at}",
            "value": round(ms(to_all, 0.5), 1),
            "unit": "ms",
            "target": None,
            "baseline": round(raw["all_p50"], 1),
        },
        {
            "name": f"{tag} fan-out: {x} → all its screens p99 {at}",
            "value": round(ms(to_all, 0.99), 1),
            "unit": f"ms ({complete:,} of {len(accepted):,} matters reached all their "
            f"screens, {missing} none)",
            "target": None,
            "baseline": round(raw["all_p99"], 1),
        },
        {
            "name": f"{tag} part: {x} → Redis stream entry p50 {at}",
            "value": round(ms(stream_in, 0.5), 1),
            "unit": f"ms (p99 {ms(stream_in, 0.99):,.0f} ms)",
            "target": None,
        },
        {
            "name": f"{tag} part: Redis stream entry → last screen p50 {at}",
            "value": round(ms(fan_out, 0.5), 1),
            "unit": f"ms (p99 {ms(fan_out, 0.99):,.0f} ms)",
            "target": None,
            "baseline": round(raw["all_p50"], 1),
        },
        {
            "name": f"{tag} deliveries ({label}) {at}",
            "value": delivered_total,
            "unit": f"of {expected_total:,} expected ({(frames1 - frames0) / elapsed:,.0f} "
            "frames/s)",
            "target": expected_total,
        },
        {
            "name": f"{tag} CPU during the run ({label}) {at}",
            "value": round(sum(cpu.values()) + (client_cpu1 - client_cpu0 + own) / elapsed * 100),
            "unit": cpu_note,
            "target": None,
        },
    ]


async def _scenario(
    bench: BenchSystem,
    gateways: list[str],
    clients: Clients,
    hubs: list[Hub],
    token: str,
    poster: Poster,
    sizes: Sizes,
    raw: dict[str, float],
) -> list[dict[str, Any]]:
    """Start ``gateways``, connect every screen, warm up, measure each rate, stop them."""
    system = bench.system
    tag = f"[{len(gateways)} gateway{'s' if len(gateways) > 1 else ''}, {len(hubs):,} screens]"
    try:
        await bench.up(*gateways)  # a no-op for those that run
        _phase(f"{tag} gateways up")
        rss0 = sum(rss_kib(system.procs[n].pid) for n in gateways)
        ports = [system.ports[n] for n in gateways]
        connected = await clients.connect(ports, token, hubs)
        _phase(f"{tag} {connected:,} screens connected")
        await asyncio.sleep(0.5)  # the gateways' buffers settle
        per_conn = (sum(rss_kib(system.procs[n].pid) for n in gateways) - rss0) / connected
        audience: dict[str, int] = {}
        for hub in hubs:
            audience[_key(hub)] = audience.get(_key(hub), 0) + 1
        await poster.run(20, 0.5)  # warm up the whole path
        await clients.settle(sizes.quiet, 30.0)
        warm, _ = await clients.collect()
        _phase(f"{tag} warmed up")
        if not warm:
            raise RuntimeError(f"no delta reached a screen; logs in {system.workdir}")
        entries: list[dict[str, Any]] = [
            {
                "name": f"{tag} gateway memory per connection",
                "value": round(per_conn, 1),
                "unit": "KiB",
                "target": TARGET_MEMORY_KIB,
            }
        ]
        publisher = Publisher(bench.settings, system.city, f"{poster.tag}k")
        for load, rate in ((poster, 100), (poster, 1000), (publisher, 1000)):
            entries += await _measure_rate(system, clients, load, audience, rate, sizes, tag, raw)
        return entries
    finally:
        await clients.ask("disconnect")
        for name in gateways:
            system.stop(name)


async def _run(
    quick: bool, gateway_counts: list[int], shared: BenchSystem | None
) -> list[dict[str, Any]]:
    _phase.reset()
    sizes = Sizes.of(quick)
    entries: list[dict[str, Any]] = []
    clients = Clients(sizes.client_processes)  # they start while the system does
    try:
        async with own_or_shared(shared, "end_to_end", max(gateway_counts)) as bench:
            system = bench.system
            counts = [min(c, len(system.gateway_names)) for c in gateway_counts]
            hubs = _hubs(system.city, sizes.hub_screens, sizes.operators)
            first = system.gateway_names[: counts[0]]  # they start idle with the rest
            await bench.up("intake", "streams", "feeder", "summarizer", *first)
            _phase("system up")
            token = await system.token("city_operator")
            poster = Poster(
                system.url("intake"),
                await system.token("intake"),
                system.city,
                bench.settings.topic_prefix.strip("."),
            )
            trips = await _redis_round_trip(system, 50 if quick else 200)
            entries.append(
                {
                    "name": "physical limit: Redis XADD → blocking XREAD p50",
                    "value": round(ms(trips, 0.5), 2),
                    "unit": f"ms (p99 {ms(trips, 0.99):.2f} ms)",
                    "target": None,
                }
            )
            _phase("raw websockets baseline")
            raw = await _raw_broadcast(clients, token, hubs, sizes.broadcasts, sizes.gap)
            entries.append(
                {
                    "name": f"physical limit: websockets.broadcast of 1 KB to {len(hubs):,} "
                    "screens, p50 until the last has it",
                    "value": round(raw["all_p50"], 1),
                    "unit": f"ms (p99 {raw['all_p99']:,.0f} ms; server "
                    f"{raw['server_us_per_conn']:.1f} µs per connection)",
                    "target": None,
                }
            )
            for count in counts:
                gateways = system.gateway_names[:count]
                entries += await _scenario(
                    bench, gateways, clients, hubs, token, poster, sizes, raw
                )
    finally:
        await clients.close()
        _phase("stopped")
    return entries


def main(
    quick: bool = False, gateways: list[int] | None = None, system: BenchSystem | None = None
) -> list[dict[str, Any]]:
    """Run the end-to-end benchmark (see the module doc); ``gateways``: the gateway counts to
    measure, one scenario each (default: one gateway); ``system``: a running one to use."""
    return asyncio.run(_run(quick, gateways or [1], system))


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

"""Steady simulated load on intake, and the counting that proves nothing was lost or doubled.

    load = IntakeLoad(system.url("intake"), token, rate=40)
    task = asyncio.create_task(load.run(seconds=30))
    ...
    tally = tally_tasks(await read_events(settings, topics.department("ZJJ")), load.accepted)
    assert tally.lost == 0

Every figure is counted by matter id (or CloudEvent id), never read off a log. Each scenario
appends its row to ``test-artifacts/reliability.jsonl`` (scenario, load, lost, duplicated,
raw redeliveries, recovery time), the table the issue asks for.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from gridhub.cloudevents import CloudEvent, DecodeError, decode
from gridhub.settings import Settings
from tests.conftest import ROOT

GRID = "T01-V001-G001"
RESULTS = ROOT / "test-artifacts" / "reliability.jsonl"


@dataclass
class Outcome:
    """One submission: when, which call, the answer."""

    at: float
    call_id: str
    status: int  # 0: no answer (connection error or client timeout)
    matter_id: str | None = None
    retry_after: str | None = None
    error: str | None = None  # why there was no answer


@dataclass
class IntakeLoad:
    """Posts hotline calls to intake at a steady ``rate`` (calls/s), at most ``in_flight``
    outstanding; keeps every outcome. Calls are department-tier (``category``) and urgent,
    so their SLA clocks run 7×24 and alerts come within seconds in the test city."""

    url: str
    token: str
    rate: float
    category: str = "TEST-DEPT"
    in_flight: int = 64
    timeout: float = 15.0
    outcomes: list[Outcome] = field(default_factory=list)
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    _runs: int = 0

    @property
    def accepted(self) -> dict[str, str]:
        """matter id → call id of every 2xx answer."""
        return {o.matter_id: o.call_id for o in self.outcomes if o.matter_id}

    def statuses(self, since: float = 0.0, until: float = float("inf")) -> Counter[int]:
        """How many answers of each status were sent in [since, until)."""
        return Counter(o.status for o in self.outcomes if since <= o.at < until)

    async def _one(self, http: aiohttp.ClientSession, n: int) -> None:
        call_id = f"{self.tag}-{n}"
        body = {
            "call_id": call_id,
            "category": self.category,
            "urgency": "urgent",
            "content": f"负载测试 {call_id}",
            "grid": GRID,
            "caller_phone": "13800000000",
        }
        at = time.monotonic()
        try:
            async with http.post(
                "/v1/hotlines/12345/calls", json=body, headers={"X-Api-Key": self.token}
            ) as r:
                answer = await r.read()
                status, retry_after = r.status, r.headers.get("retry-after")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            self.outcomes.append(Outcome(at, call_id, 0, error=f"{type(exc).__name__}: {exc}"))
            return
        matter_id = orjson.loads(answer).get("matter_id") if status < 300 else None
        self.outcomes.append(Outcome(at, call_id, status, matter_id, retry_after))

    async def run(self, seconds: float, rate: float | None = None) -> None:
        """Submit for ``seconds`` at ``rate`` (default: :attr:`rate`), then wait for answers.
        (aiohttp: a few times cheaper per request than httpx, so the generator keeps up.)"""
        pace = 1.0 / (rate or self.rate)
        gate = asyncio.Semaphore(self.in_flight)
        # idle connections are dropped before uvicorn's 5 s keep-alive ends them: otherwise a
        # request sent on a connection the server is closing gets a reset (a client race)
        connector = aiohttp.TCPConnector(limit=self.in_flight, keepalive_timeout=2.0)
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(self.url, connector=connector, timeout=timeout) as http:
            tasks: set[asyncio.Task[None]] = set()

            async def guarded(n: int) -> None:
                try:
                    await self._one(http, n)
                finally:
                    gate.release()

            start = time.monotonic()
            base = len(self.outcomes) + 100_000 * (self._runs)
            self._runs += 1
            k = 0
            while time.monotonic() - start < seconds:
                await gate.acquire()  # at most in_flight outstanding: the pace drops if stuck
                k += 1
                task = asyncio.create_task(guarded(base + k))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                await asyncio.sleep(max(0.0, start + k * pace - time.monotonic()))
            if tasks:
                await asyncio.gather(*tasks)


async def read_events(
    settings: Settings, topics: str | Sequence[str], within: float = 60.0
) -> list[CloudEvent]:
    """Every record of ``topics`` from offset 0 to their end offsets now, decoded (records
    that are not CloudEvents are skipped)."""
    names = [topics] if isinstance(topics, str) else list(topics)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    out: list[CloudEvent] = []
    try:
        await consumer._client.set_topics(names)  # fetches their metadata now
        parts = [
            TopicPartition(name, p)
            for name in names
            for p in sorted(consumer.partitions_for_topic(name) or ())
        ]
        ends = {tp: e for tp, e in (await consumer.end_offsets(parts)).items() if e > 0}
        if not ends:
            return out
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        deadline = time.monotonic() + within
        while ends and time.monotonic() < deadline:
            batch = await consumer.getmany(*ends, timeout_ms=500, max_records=20_000)
            for tp, records in batch.items():
                for r in records:
                    if r.offset < ends.get(tp, 0):
                        try:
                            out.append(decode(r.value, r.headers))
                        except DecodeError:
                            continue
            for tp in list(ends):
                if await consumer.position(tp) >= ends[tp]:
                    del ends[tp]
    finally:
        await consumer.stop()
    return out


@dataclass
class Tally:
    """Department-queue figures for the accepted matters."""

    accepted: int
    present: int
    lost: int
    duplicated: int
    redelivered: int

    def row(self) -> dict[str, int]:
        """The figures as a dict for the results table."""
        return {
            "accepted": self.accepted,
            "present": self.present,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "raw_redelivered": self.redelivered,
        }


def tally_tasks(tasks: list[CloudEvent], accepted: dict[str, str]) -> Tally:
    """Count each accepted matter's first dispatch (version 1 task) on a department topic.

    ``lost``: accepted matters with no version-1 task. ``duplicated``: matters dispatched
    under more than one distinct task id (a real double dispatch). ``redelivered``: records
    whose ``ce_id`` was already seen (at-least-once re-sends that consumers drop by id)."""
    firsts = [t for t in tasks if t.data.get("version") == 1]
    by_id = Counter(t.id for t in firsts)
    ids_per_matter: dict[str, set[str]] = {}
    for t in firsts:
        ids_per_matter.setdefault(str(t.subject), set()).add(t.id)
    present = set(accepted) & set(ids_per_matter)
    return Tally(
        accepted=len(accepted),
        present=len(present),
        lost=len(set(accepted) - present),
        duplicated=sum(1 for ids in ids_per_matter.values() if len(ids) > 1),
        redelivered=sum(c - 1 for c in by_id.values()),
    )


def record(scenario: str, **figures: Any) -> None:
    """Append one row of the results table (``test-artifacts/reliability.jsonl``) and print it."""
    row = {"scenario": scenario, "at": time.strftime("%Y-%m-%dT%H:%M:%S"), **figures}
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print("RESULT", json.dumps(row, ensure_ascii=False))

"""Intake benchmark: single submissions over HTTP (requests/s, p99) and batch import (records/s).

    python -m bench.intake [--quick]

Runs the real intake service (``python -m connectors`` in a subprocess, so client and
server do not share a GIL; :mod:`bench.system`) against the running Kafka and Redis, on
topics and keys with a unique prefix that are deleted afterwards: 16 clients submit hotline
calls for 20 s, then 10,000 records are imported with ``connectors.importer`` (``--quick``:
1 s and 200). ``main(quick)`` returns entries ``{name, value, unit, target, baseline?}``;
the baseline of the import is a bare kafka-python producer (acks=all, idempotent) sending
the same number of records.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from kafka import KafkaProducer

from bench.support import Phases, pct
from bench.system import FAST_CATEGORY, BenchSystem, own_or_shared
from connectors.config import IntakeConfig
from connectors.importer import import_file
from gridhub.intake import Source
from gridhub.settings import Settings

_phase = Phases("intake")


def _calls(city_grids: list[str], categories: list[str], n: int, tag: str) -> list[dict[str, Any]]:
    return [
        {
            "call_id": f"{tag}-{i}",
            "category": categories[i % len(categories)],
            "content": f"bench call {i}: 路灯不亮，已持续三天",
            "grid": city_grids[i % len(city_grids)],
            "caller_phone": "13800000000",
        }
        for i in range(n)
    ]


async def _single(
    url: str, key: str, calls: list[dict[str, Any]], concurrency: int, seconds: float
) -> tuple[float, float, int]:
    """(requests/s, p99 ms, errors) of ``concurrency`` clients posting for ``seconds``.

    The client is aiohttp (installed with faust-streaming): httpx costs several times more
    CPU per request, which on a 2-core machine would measure the client, not the server.
    """
    latencies: list[float] = []
    errors = 0
    next_call = 0
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        base_url=url, headers={"X-Api-Key": key}, connector=connector
    ) as http:

        async def client() -> None:
            nonlocal next_call, errors
            while time.monotonic() < deadline and next_call < len(calls):
                body = orjson.dumps(calls[next_call])
                next_call += 1
                t0 = time.perf_counter()
                async with http.post(
                    "/v1/hotlines/12345/calls",
                    data=body,
                    headers={"Content-Type": "application/json"},
                ) as resp:
                    await resp.read()
                    if resp.status != 201:
                        errors += 1
                latencies.append(time.perf_counter() - t0)

        started = time.monotonic()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    return len(latencies) / elapsed, pct(latencies, 0.99, 1000), errors


def _raw_producer_rate(settings: Settings, topic: str, records: list[bytes]) -> float:
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=10,
        batch_size=64 * 1024,
    )
    started = time.monotonic()
    for i, value in enumerate(records):
        producer.send(topic, key=str(i).encode(), value=value)
    producer.flush()
    elapsed = time.monotonic() - started
    producer.close()
    return len(records) / elapsed


async def _run(quick: bool, shared: BenchSystem | None) -> list[dict[str, Any]]:
    _phase.reset()
    n_single, seconds = (1000, 1.0) if quick else (20000, 20.0)
    n_batch = 200 if quick else 10_000
    async with own_or_shared(shared, "intake") as bench:
        settings, city = bench.settings, bench.system.city
        grids = sorted(city.grids)
        cats = sorted(c for c in city.categories if c != FAST_CATEGORY)
        tag = settings.topic_prefix.strip(".")
        await bench.up("intake")
        _phase("intake up")
        url, key = bench.system.url("intake"), await bench.system.token("intake")
        await _single(url, key, _calls(grids, cats, 50, f"w{tag}"), 8, 0.5)  # warm up
        rps, p99, errors = await _single(
            url, key, _calls(grids, cats, n_single, f"s{tag}"), 16, seconds
        )
        if errors:
            raise RuntimeError(f"{errors} single submissions were not accepted")
        _phase("single submissions measured")
        with tempfile.TemporaryDirectory() as tmp:
            export = Path(tmp) / "calls.jsonl"
            lines = [orjson.dumps(c) for c in _calls(grids, cats, n_batch, f"b{tag}")]
            export.write_bytes(b"\n".join(lines) + b"\n")
            summary = await import_file(
                export, Source.HOTLINE_12345, settings, config=IntakeConfig(), concurrency=256
            )
            if summary.accepted != n_batch:
                raise RuntimeError(f"import accepted {summary.accepted} of {n_batch}")
            raw_topic = f"{settings.topic_prefix}bench.raw"  # created on first use
            baseline = await asyncio.to_thread(_raw_producer_rate, settings, raw_topic, lines)
        batch_rate = summary.accepted / summary.elapsed_seconds
        _phase("import and raw producer measured")
    return [
        {
            "name": "intake single submissions (HTTP, 16 clients)",
            "value": round(rps, 1),
            "unit": "requests/s",
            "target": 200,
        },
        {
            "name": "intake single submission p99 latency",
            "value": round(p99, 1),
            "unit": "ms",
            "target": 250,
        },
        {
            "name": "batch import (JSON lines, 256 in flight)",
            "value": round(batch_rate, 1),
            "unit": "records/s",
            "target": 2000,
            "baseline": round(baseline, 1),
        },
    ]


def main(quick: bool = False, system: BenchSystem | None = None) -> list[dict[str, Any]]:
    """Run the intake benchmark; ``quick`` uses fewer records and shorter runs; ``system``:
    a running one to use (else it starts its own intake)."""
    return asyncio.run(_run(quick, system))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    for entry in main(parser.parse_args().quick):
        base = f"  (baseline {entry['baseline']:,})" if "baseline" in entry else ""
        print(
            f"{entry['name']}: {entry['value']:,} {entry['unit']}  "
            f"(target {entry['target']:,}){base}"
        )

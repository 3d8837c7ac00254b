"""Intake benchmark: single submissions over HTTP (requests/s, p99) and batch import (records/s).

    python -m bench.intake [--quick]

Runs the real intake service (``python -m connectors`` in a subprocess, so client and
server do not share a GIL) against the running Kafka and Redis, on topics and keys with a
unique prefix that are deleted afterwards. ``main(quick)`` returns entries
``{name, value, unit, target, baseline?}``; the baseline of the import is a bare
kafka-python producer (acks=all, idempotent) sending the same number of records.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
import redis.asyncio as aioredis
from kafka import KafkaProducer

from connectors.config import IntakeConfig
from connectors.importer import import_file
from gridhub.auth import issue_token
from gridhub.citydata import load_city
from gridhub.intake import Source
from gridhub.kafka_admin import delete_topics_with_prefix, ensure_topics
from gridhub.keys import RedisKeys
from gridhub.settings import Settings, load_settings
from gridhub.topics import Topics

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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


def _start_server(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "GRIDHUB_TOPIC_PREFIX": settings.topic_prefix,
        "GRIDHUB_REDIS_PREFIX": settings.redis_prefix,
        "GRIDHUB_INTAKE_PORT": str(port),
        "GRIDHUB_INTAKE_RATE_LIMIT": "100000000",
        "GRIDHUB_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "connectors"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


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
    raise RuntimeError(f"intake did not answer at {url}")


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
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return len(latencies) / elapsed, p99, errors


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


async def _run(quick: bool) -> list[dict[str, Any]]:
    tag = uuid.uuid4().hex[:8]
    settings = load_settings().model_copy(
        update={"topic_prefix": f"bench{tag}.", "redis_prefix": f"bench{tag}:"}
    )
    topics = Topics.from_settings(settings)
    ensure_topics(settings, topics.core())
    city = load_city(settings.city_file)
    redis = aioredis.from_url(str(settings.redis_url))
    grids, cats = sorted(city.grids), sorted(city.categories)
    n_single, seconds = (1500, 5.0) if quick else (20000, 20.0)
    n_batch = 3000 if quick else 30000
    port = _free_port()
    server = _start_server(settings, port)
    try:
        key, _ = await issue_token(
            redis, RedisKeys(settings.redis_prefix), city, user="bench", role="intake"
        )
        url = f"http://127.0.0.1:{port}"
        await _wait_ready(url)
        await _single(url, key, _calls(grids, cats, 50, f"w{tag}"), 8, 2.0)  # warm up
        rps, p99, errors = await _single(
            url, key, _calls(grids, cats, n_single, f"s{tag}"), 16, seconds
        )
        if errors:
            raise RuntimeError(f"{errors} single submissions were not accepted")
    finally:
        server.terminate()
        server.wait(timeout=30)
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "calls.jsonl"
        lines = [orjson.dumps(c) for c in _calls(grids, cats, n_batch, f"b{tag}")]
        export.write_bytes(b"\n".join(lines) + b"\n")
        summary = await import_file(
            export, Source.HOTLINE_12345, settings, config=IntakeConfig(), concurrency=256
        )
        if summary.accepted != n_batch:
            raise RuntimeError(f"import accepted {summary.accepted} of {n_batch}")
        baseline = await asyncio.to_thread(_raw_producer_rate, settings, topics.dead_letter, lines)
    batch_rate = summary.accepted / summary.elapsed_seconds
    async for k in redis.scan_iter(match=f"{settings.redis_prefix}*", count=1000):
        await redis.delete(k)
    await redis.aclose()
    delete_topics_with_prefix(settings, settings.topic_prefix)
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


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Run the intake benchmark; ``quick`` uses fewer records and shorter runs."""
    return asyncio.run(_run(quick))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    for entry in main(parser.parse_args().quick):
        base = f"  (baseline {entry['baseline']:,})" if "baseline" in entry else ""
        print(
            f"{entry['name']}: {entry['value']:,} {entry['unit']}  "
            f"(target {entry['target']:,}){base}"
        )

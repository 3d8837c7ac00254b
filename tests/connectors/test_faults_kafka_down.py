"""Kafka goes down and comes back: intake answers 503 with Retry-After (never a 2xx it cannot
keep), the batch import pauses and resumes, and every 2xx matter is on the topic once.

Runs against a private broker (tests/support/private_kafka.py), never the shared one.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from connectors.app import create_app
from connectors.config import IntakeConfig
from connectors.importer import import_file
from gridhub.intake import Source
from gridhub.kafka_admin import ensure_topics
from gridhub.settings import Settings
from gridhub.topics import Topics
from tests.connectors.conftest import body_of, intake_records
from tests.support.private_kafka import PrivateKafka

pytestmark = [pytest.mark.integration, pytest.mark.faults]

CALL = {"category": "LIV-HEATING", "content": "暖气不热", "grid": "T01-V001-G001"}


@pytest.fixture
def kafka() -> Iterator[PrivateKafka]:
    with PrivateKafka() as broker:
        yield broker


async def submit_until_2xx(
    http: httpx.AsyncClient, call: dict[str, str], limit: float = 90.0
) -> httpx.Response:
    deadline = time.monotonic() + limit
    while True:
        response = await http.post("/v1/hotlines/12345/calls", json=call)
        assert response.status_code < 500 or response.status_code == 503, response.text
        if response.status_code < 300 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(min(1.0, float(response.headers.get("Retry-After", "1"))))


async def test_kafka_down_then_up(
    settings: Settings, kafka: PrivateKafka, api_key: str, redis_client: object, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"kafka_bootstrap": kafka.bootstrap})
    topics = Topics.from_settings(settings)
    ensure_topics(settings, topics.core(), partitions=2)
    config = IntakeConfig(kafka_timeout_ms=3000, retry_after_seconds=2)
    app = create_app(settings, config)
    accepted: list[str] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://intake",
            headers={"X-Api-Key": api_key},
            timeout=60,
        ) as http:
            first = await http.post("/v1/hotlines/12345/calls", json={**CALL, "call_id": "A"})
            assert first.status_code == 201
            accepted.append(body_of(first)["matter_id"])

            await asyncio.to_thread(kafka.stop)
            started = time.monotonic()
            down = await http.post("/v1/hotlines/12345/calls", json={**CALL, "call_id": "B"})
            assert down.status_code == 503, down.text
            assert time.monotonic() - started < 15
            assert int(down.headers["Retry-After"]) == 2
            assert body_of(down)["error"]["code"] == "unavailable"
            still = await http.post("/v1/hotlines/12345/calls", json={**CALL, "call_id": "B"})
            assert still.status_code == 503  # the failed claim was released, not "duplicate"
            known = await http.post("/v1/hotlines/12345/calls", json={**CALL, "call_id": "A"})
            assert known.status_code == 200  # acknowledged before the outage: kept

            export = tmp_path / "calls.jsonl"
            export.write_bytes(
                b"\n".join(orjson.dumps({**CALL, "call_id": f"I{i}"}) for i in range(30))
            )
            importing = asyncio.create_task(
                import_file(
                    export,
                    Source.HOTLINE_12345,
                    settings,
                    config=config,
                    concurrency=8,
                    max_pause_seconds=180,
                )
            )
            await asyncio.sleep(3)
            assert not importing.done()  # paused while the broker is down

            await asyncio.to_thread(kafka.start)
            again = await submit_until_2xx(http, {**CALL, "call_id": "B"})
            assert again.status_code == 201, again.text
            accepted.append(body_of(again)["matter_id"])
            later = await submit_until_2xx(http, {**CALL, "call_id": "C"})
            assert later.status_code == 201
            accepted.append(body_of(later)["matter_id"])
            summary = await asyncio.wait_for(importing, 180)
            assert (summary.accepted, summary.rejected) == (30, 0)
            assert summary.paused_seconds > 0

    records = intake_records(settings, len(accepted) + 30)
    counts = Counter(event.subject for _, event in records)
    for matter_id in accepted:
        assert counts[matter_id] == 1, (matter_id, counts[matter_id])
    assert len(counts) == 33 and set(counts.values()) == {1}

"""Grid-worker patrol reports: solved on the spot (resolved at the grid) or needs handling."""

from __future__ import annotations

import httpx
import pytest
import redis.asyncio as aioredis

from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from tests.connectors.conftest import body_of, headers_of, intake_records

pytestmark = pytest.mark.integration

REPORT = {
    "report_id": "R-1",
    "worker_id": "W-0042",
    "grid": "T02-V001-G001",
    "category": "LIV-HEATING",
    "found": "王家屯3户供暖管道漏水",
}


async def test_solved_on_spot_is_recorded_resolved(
    client: httpx.AsyncClient, settings: Settings, redis_client: aioredis.Redis
) -> None:
    report = {**REPORT, "solved_on_spot": True, "result": "已联系维修人员现场更换阀门"}
    response = await client.post("/v1/patrol/reports", json=report)
    assert response.status_code == 201, response.text
    body = body_of(response)
    assert body["state"] == "resolved"
    [(record, event)] = intake_records(settings, 1)
    assert headers_of(record)["ce_source"] == "/intake/patrol"
    data = event.data
    assert data["solved_on_spot"] is True and data["result"] == report["result"]
    assert data["worker_id"] == "W-0042" and data["grid"] == "T02-V001-G001"
    assert data["source_id"] == "W-0042/R-1"
    assert "reporter" not in data
    seen = await redis_client.get(RedisKeys(settings.redis_prefix).intake_seen(body["matter_id"]))
    assert isinstance(seen, bytes) and b'"state":"resolved"' in seen


async def test_needs_handling(client: httpx.AsyncClient, settings: Settings) -> None:
    response = await client.post(
        "/v1/patrol/reports", json={**REPORT, "report_id": "R-2", "solved_on_spot": False}
    )
    assert response.status_code == 201
    assert body_of(response)["state"] == "accepted"
    [(_, event)] = intake_records(settings, 1)
    assert event.data["solved_on_spot"] is False and "result" not in event.data


async def test_solved_needs_a_result(client: httpx.AsyncClient, settings: Settings) -> None:
    response = await client.post(
        "/v1/patrol/reports", json={**REPORT, "report_id": "R-3", "solved_on_spot": True}
    )
    assert response.status_code == 422
    assert body_of(response)["error"]["field"] == "result"

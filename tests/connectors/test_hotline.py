"""Hotline call records over HTTP reach matters.intake normalised, with CloudEvents headers."""

from __future__ import annotations

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from gridhub.intake import matter_id_for
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from tests.connectors.conftest import body_of, headers_of, intake_count, intake_records

pytestmark = pytest.mark.integration

CALL = {
    "call_id": "C20240601-0001",
    "call_time": "2024-06-01T08:30:00",
    "category": "LIV-HEATING",
    "urgency": "urgent",
    "content": "  暖气不热，室温只有12度\x07 <b>请尽快</b>\r\n处理  ",
    "caller_name": "王女士",
    "caller_phone": "13800000000",
    "address": "光明社区第二网格 3号楼",
}


async def test_call_record_is_published_normalised(
    client: httpx.AsyncClient, settings: Settings, redis_client: aioredis.Redis
) -> None:
    response = await client.post("/v1/hotlines/12345/calls", json=CALL)
    assert response.status_code == 201, response.text
    matter_id = body_of(response)["matter_id"]
    assert matter_id == matter_id_for("hotline-12345", CALL["call_id"])

    [(record, event)] = intake_records(settings, 1)
    assert record.key == matter_id.encode()
    headers = headers_of(record)
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_type"] == "gridhub.matter.intake.v1"
    assert headers["ce_source"] == "/intake/hotline-12345"
    assert headers["ce_subject"] == matter_id
    assert headers["ce_id"] == f"{matter_id}:intake"
    assert headers["content-type"] == "application/json"
    data = event.data
    assert data["source"] == "hotline-12345"
    assert data["source_id"] == CALL["call_id"]
    assert data["grid"] == "T01-V001-G002"  # resolved from the address text
    assert data["urgency"] == "urgent"
    assert data["description"] == "暖气不热，室温只有12度 <b>请尽快</b>\n处理"  # no \x07, \r
    assert data["received_at"] == "2024-06-01T00:30:00Z"  # city-local 08:30 in UTC
    assert data["reporter"] == {"name": "王女士", "phone": "13800000000"}

    raw = await redis_client.get(RedisKeys(settings.redis_prefix).intake_seen(matter_id))
    assert raw is not None
    seen = orjson.loads(raw)
    assert seen["state"] == "accepted" and "reporter" not in seen


async def test_business_hotline_and_duplicate(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    call = {**CALL, "call_id": "B-77", "grid": "T02-V001-G001", "address": None}
    first = await client.post("/v1/hotlines/business/calls", json=call)
    again = await client.post("/v1/hotlines/business/calls", json=call)
    assert first.status_code == 201 and again.status_code == 200
    assert body_of(again) == {"matter_id": body_of(first)["matter_id"], "duplicate": True}
    records = intake_records(settings, 1)
    assert len(records) == 1 and records[0][1].data["source"] == "hotline-business"
    assert intake_count(settings) == 1


async def test_unknown_hotline_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/hotlines/110/calls", json=CALL)
    assert response.status_code == 404
    assert body_of(response)["error"]["field"] == "hotline"

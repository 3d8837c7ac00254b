"""Every kind of bad input gets a specific error naming the field, never a 5xx, and
publishes nothing (the end offsets of matters.intake do not move)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from connectors.app import create_app
from connectors.config import IntakeConfig
from gridhub.settings import Settings
from gridhub.topics import Topics
from tests.connectors.conftest import body_of, intake_count

pytestmark = pytest.mark.integration

CALL = {"call_id": "C-1", "category": "LIV-HEATING", "content": "暖气不热", "grid": "T01-V001-G001"}
APP = {
    "submission_id": "S-1",
    "category": "SOC-PUBLIC",
    "description": "噪音扰民",
    "location": {"grid": "T01-V002-G001"},
}
PATROL = {
    "report_id": "R-1",
    "worker_id": "W-1",
    "grid": "T02-V001-G001",
    "category": "LIV-HEATING",
    "found": "管道漏水",
    "solved_on_spot": False,
}
O311 = {
    "service_code": "LIV-HEATING",
    "lat": "44.4181",
    "long": "126.9581",
    "description": "暖气不热",
}
HOT, APPS, PAT, OPEN = (
    "/v1/hotlines/12345/calls",
    "/v1/app/submissions",
    "/v1/patrol/reports",
    "/open311/v2/requests.json",
)

# (case id, path, request kwargs, status, error code, field)
CASES: list[tuple[str, str, dict[str, Any], int, str, str]] = [
    (
        "missing-field",
        HOT,
        {"json": {k: v for k, v in CALL.items() if k != "category"}},
        422,
        "invalid",
        "category",
    ),
    ("missing-nested", APPS, {"json": {**APP, "location": {}}}, 422, "invalid", "location.grid"),
    ("wrong-type-str", APPS, {"json": {**APP, "category": 123}}, 422, "invalid", "category"),
    (
        "wrong-type-bool",
        PAT,
        {"json": {**PATROL, "solved_on_spot": "yes"}},
        422,
        "invalid",
        "solved_on_spot",
    ),
    (
        "wrong-type-number",
        HOT,
        {"json": {**CALL, "lat": "44.4", "lon": 126.9}},
        422,
        "invalid",
        "lat",
    ),
    (
        "wrong-type-url",
        APPS,
        {"json": {**APP, "photos": ["not a url"]}},
        422,
        "invalid",
        "photos.0",
    ),
    ("unknown-field", HOT, {"json": {**CALL, "colour": "red"}}, 422, "invalid", "colour"),
    ("unknown-category", HOT, {"json": {**CALL, "category": "NOPE"}}, 422, "invalid", "category"),
    ("unknown-grid", PAT, {"json": {**PATROL, "grid": "X-1"}}, 422, "invalid", "grid"),
    (
        "unknown-grid-app",
        APPS,
        {"json": {**APP, "location": {"grid": "X-1"}}},
        422,
        "invalid",
        "location.grid",
    ),
    ("unknown-urgency", HOT, {"json": {**CALL, "urgency": "panic"}}, 422, "invalid", "urgency"),
    (
        "future-time",
        HOT,
        {"json": {**CALL, "call_time": "2999-01-01T00:00:00Z"}},
        422,
        "invalid",
        "call_time",
    ),
    (
        "text-too-long",
        APPS,
        {"json": {**APP, "description": "长" * 4001}},
        413,
        "too_large",
        "description",
    ),
    (
        "short-text-too-long",
        HOT,
        {"json": {**CALL, "caller_name": "x" * 201}},
        413,
        "too_large",
        "caller_name",
    ),
    (
        "body-too-large",
        HOT,
        {
            "content": b'{"pad": "' + b"x" * 70_000 + b'"}',
            "headers": {"Content-Type": "application/json"},
        },
        413,
        "too_large",
        "body",
    ),
    (
        "not-json",
        HOT,
        {"content": b"{call_id: C-1,", "headers": {"Content-Type": "application/json"}},
        400,
        "invalid_json",
        "body",
    ),
    (
        "empty-body",
        HOT,
        {"content": b"", "headers": {"Content-Type": "application/json"}},
        400,
        "invalid_json",
        "body",
    ),
    ("json-not-object", APPS, {"json": [APP]}, 422, "invalid", "body"),
    (
        "wrong-content-type",
        HOT,
        {"content": b"call_id=C-1", "headers": {"Content-Type": "text/plain"}},
        415,
        "unsupported_media_type",
        "Content-Type",
    ),
    (
        "control-chars-only",
        APPS,
        {"json": {**APP, "description": "\x00\x01\x1b\x7f"}},
        422,
        "invalid",
        "description",
    ),
    (
        "outside-city",
        APPS,
        {"json": {**APP, "location": {"lat": 39.9, "lon": 116.4}}},
        422,
        "invalid",
        "location.lat",
    ),
    ("lat-without-lon", HOT, {"json": {**CALL, "grid": None, "lat": 44.41}}, 422, "invalid", "lon"),
    (
        "solved-without-result",
        PAT,
        {"json": {**PATROL, "solved_on_spot": True}},
        422,
        "invalid",
        "result",
    ),
    (
        "no-api-key",
        HOT,
        {"json": CALL, "headers": {"X-Api-Key": ""}},
        401,
        "unauthorized",
        "api_key",
    ),
    (
        "bad-api-key",
        HOT,
        {"json": CALL, "headers": {"X-Api-Key": "ghk_forged"}},
        401,
        "unauthorized",
        "api_key",
    ),
    (
        "open311-unknown-service",
        OPEN,
        {"data": {**O311, "service_code": "NOPE"}},
        400,
        "invalid",
        "service_code",
    ),
    (
        "open311-outside-city",
        OPEN,
        {"data": {**O311, "lat": "10", "long": "10"}},
        422,
        "invalid",
        "lat",
    ),
    (
        "open311-no-location",
        OPEN,
        {"data": {"service_code": "LIV-HEATING"}},
        422,
        "invalid",
        "grid",
    ),
    (
        "open311-too-long",
        OPEN,
        {"data": {**O311, "description": "x" * 4001}},
        413,
        "too_large",
        "description",
    ),
    (
        "open311-multipart",
        OPEN,
        {"files": {"media": ("a.jpg", b"123")}, "data": O311},
        415,
        "unsupported_media_type",
        "Content-Type",
    ),
    ("open311-bad-lat", OPEN, {"data": {**O311, "lat": "north"}}, 422, "invalid", "lat"),
]


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "code", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_bad_input_is_refused_and_publishes_nothing(
    client: httpx.AsyncClient,
    api_key: str,
    settings: Settings,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    code: str,
    field: str,
) -> None:
    before = intake_count(settings)
    if path.startswith("/open311/") and "data" in kwargs:
        kwargs = {**kwargs, "data": {**kwargs["data"], "api_key": api_key}}
    response = await client.post(path, **kwargs)
    assert response.status_code == status, response.text
    assert response.status_code < 500
    body = body_of(response)
    if path.startswith("/open311/"):
        assert body[0]["code"] == status and body[0]["field"] == field, body
        assert field in body[0]["description"] or status in (401, 415)
    else:
        error = body["error"]
        assert (error["code"], error["field"]) == (code, field), error
        assert error["message"]
    message = body[0]["description"] if path.startswith("/open311/") else error["message"]
    if "unknown category" in message:  # the error says where the valid codes are
        assert "/v1/reference/categories" in message
    if "unknown grid" in message:
        assert "/v1/reference/grids" in message
    assert intake_count(settings) == before


async def test_html_and_control_characters_are_stored_as_text(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    text = "<img src=x onerror=alert(1)>\x00坏\x1b[31m了\t\n&amp;"
    response = await client.post(APPS, json={**APP, "description": text})
    assert response.status_code == 201
    from tests.connectors.conftest import intake_records

    [(_, event)] = intake_records(settings, 1)
    assert event.data["description"] == "<img src=x onerror=alert(1)>坏[31m了\t\n&amp;"


async def test_duplicate_publishes_nothing_new(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    first = await client.post(HOT, json=CALL)
    assert first.status_code == 201
    before = intake_count(settings)
    for _ in range(3):
        again = await client.post(HOT, json={**CALL, "content": "changed text"})
        assert again.status_code == 200
        assert body_of(again) == {"matter_id": body_of(first)["matter_id"], "duplicate": True}
    assert intake_count(settings) == before == 1


async def test_flood_from_one_client_is_rate_limited(
    settings: Settings, topics: Topics, api_key: str, redis_client: object
) -> None:
    app: FastAPI = create_app(settings, IntakeConfig(rate_limit=5, rate_window_seconds=60))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://intake", headers={"X-Api-Key": api_key}
        ) as http:
            codes = [
                (await http.post(HOT, json={**CALL, "call_id": f"F{i}"})).status_code
                for i in range(5)
            ]
            assert codes == [201] * 5
            before = intake_count(settings)
            flood = await http.post(HOT, json={**CALL, "call_id": "F-extra"})
            assert flood.status_code == 429
            assert int(flood.headers["Retry-After"]) >= 1
            assert body_of(flood)["error"]["code"] == "rate_limited"
            assert intake_count(settings) == before == 5

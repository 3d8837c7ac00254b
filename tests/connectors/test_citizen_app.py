"""Citizen-app submissions: grid codes, coordinates and address text resolve to a grid."""

from __future__ import annotations

import httpx
import pytest

from gridhub.settings import Settings
from tests.connectors.conftest import body_of, headers_of, intake_records

pytestmark = pytest.mark.integration


def submission(sid: str, **location: object) -> dict[str, object]:
    return {
        "submission_id": sid,
        "category": "SOC-PUBLIC",
        "description": "夜间有人在小区内燃放烟花 <script>alert(1)</script>",
        "location": location,
        "photos": ["https://img.example.org/a.jpg", "https://img.example.org/b.jpg"],
        "contact": {"name": "李先生", "phone": "13900000000"},
    }


@pytest.mark.parametrize(
    ("location", "grid"),
    [
        ({"grid": "T01-V002-G001"}, "T01-V002-G001"),
        ({"lat": 44.5079, "lon": 127.1605}, "T02-V001-G002"),
        ({"address": "永安村李家屯网格 东头"}, "T02-V001-G002"),
        ({"address": "Heping Community, building 4"}, "T01-V002-G001"),
    ],
)
async def test_submission_resolves_location(
    client: httpx.AsyncClient, settings: Settings, location: dict[str, object], grid: str
) -> None:
    response = await client.post("/v1/app/submissions", json=submission("S-1", **location))
    assert response.status_code == 201, response.text
    assert body_of(response)["grid"] == grid
    [(record, event)] = intake_records(settings, 1)
    assert headers_of(record)["ce_source"] == "/intake/app"
    data = event.data
    assert data["grid"] == grid
    assert data["source"] == "app" and data["source_id"] == "S-1"
    assert data["category"] == "SOC-PUBLIC" and data["urgency"] == "normal"
    assert data["description"].endswith("<script>alert(1)</script>")  # literal text
    assert data["attachments"] == ["https://img.example.org/a.jpg", "https://img.example.org/b.jpg"]
    assert data["reporter"] == {"name": "李先生", "phone": "13900000000"}
    if "lat" in location:
        assert (data["lat"], data["lon"]) == (location["lat"], location["lon"])


async def test_village_with_many_grids_asks_for_a_grid(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.post(
        "/v1/app/submissions", json=submission("S-2", address="光明社区 门口")
    )
    assert response.status_code == 422
    error = body_of(response)["error"]
    assert error["field"] == "location.address"
    assert "/v1/reference/grids?village=T01-V001" in error["message"]


async def test_reference_lists_codes(client: httpx.AsyncClient) -> None:
    cats = body_of(await client.get("/v1/reference/categories"))["categories"]
    assert {c["code"] for c in cats} >= {"LIV-HEATING", "SOC-PUBLIC"}
    grids = body_of(await client.get("/v1/reference/grids", params={"village": "T01-V001"}))
    assert [g["code"] for g in grids["grids"]] == [
        "T01-V001-G001",
        "T01-V001-G002",
        "T01-V001-G003",
    ]
    missing = await client.get("/v1/reference/grids", params={"village": "NOPE"})
    assert missing.status_code == 404 and body_of(missing)["error"]["field"] == "village"

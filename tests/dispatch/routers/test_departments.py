"""A department's queue: deadline order, filters, paging, and nobody else's queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis.asyncio as aioredis

from gridhub.keys import RedisKeys
from tests.dispatch.conftest import Call
from tests.dispatch.seed import T0, make_view, put_view

pytestmark = pytest.mark.integration


@pytest.fixture
async def queue(redis_client: aioredis.Redis, keys: RedisKeys) -> None:
    specs = [
        ("Q3", "assigned", "none", "LIV-HEATING", 3),
        ("Q1", "signed_for", "yellow", "LIV-HEATING", 1),
        ("Q2", "in_progress", "red", "URB-STALL", 2),
        ("Q4", "assigned", "red", "LIV-HEATING", 4),
    ]
    for mid, state, level, category, days in specs:
        view = make_view(
            mid, state=state, warning_level=level, category=category, due=T0 + timedelta(days=days)
        )
        await put_view(redis_client, keys, view)
    await put_view(redis_client, keys, make_view("G1", owner=("department", "GAJ")))


async def test_queue_is_ordered_by_deadline(call: Call, queue: None) -> None:
    r = await call("dept", "GET", "/v1/departments/ZJJ/queue")
    assert r.status_code == 200
    assert [m["id"] for m in r.json()["items"]] == ["Q1", "Q2", "Q3", "Q4"]
    assert r.json()["next_offset"] is None


async def test_queue_filters_and_pages(call: Call, queue: None) -> None:
    async def ids(query: str) -> list[str]:
        r = await call("dept", "GET", f"/v1/departments/ZJJ/queue?{query}")
        assert r.status_code == 200, r.text
        return [m["id"] for m in r.json()["items"]]

    assert await ids("state=assigned") == ["Q3", "Q4"]
    assert await ids("warning_level=red") == ["Q2", "Q4"]
    assert await ids("category=URB-STALL") == ["Q2"]
    assert await ids("state=assigned&warning_level=red&category=LIV-HEATING") == ["Q4"]
    r = await call("dept", "GET", "/v1/departments/ZJJ/queue?limit=2")
    assert [m["id"] for m in r.json()["items"]] == ["Q1", "Q2"]
    assert r.json()["next_offset"] == 2
    assert await ids("limit=2&offset=2") == ["Q3", "Q4"]
    r = await call("dept", "GET", "/v1/departments/ZJJ/queue?state=bogus")
    assert r.status_code == 422 and r.json()["error"]["field"] == "state"


async def test_other_departments_and_hubs_cannot_read_the_queue(call: Call, queue: None) -> None:
    assert (await call("dept_out", "GET", "/v1/departments/ZJJ/queue")).status_code == 404
    for who in ("township", "village", "worker"):
        assert (await call(who, "GET", "/v1/departments/ZJJ/queue")).status_code == 403, who
    r = await call("dept_out", "GET", "/v1/departments/GAJ/queue")
    assert [m["id"] for m in r.json()["items"]] == ["G1"]
    for who in ("operator", "supervisor", "leader", "auditor"):
        r = await call(who, "GET", "/v1/departments/ZJJ/queue")
        assert len(r.json()["items"]) == 4, who
    assert (await call("operator", "GET", "/v1/departments/NOPE/queue")).status_code == 404

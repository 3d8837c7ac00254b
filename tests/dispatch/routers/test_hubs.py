"""Hubs' open matters: a hub sees its own list, a township its villages', nobody else's."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from gridhub.keys import RedisKeys
from tests.dispatch.conftest import Call
from tests.dispatch.seed import make_view, put_view

pytestmark = pytest.mark.integration


@pytest.fixture
async def hubs(redis_client: aioredis.Redis, keys: RedisKeys) -> None:
    await put_view(redis_client, keys, make_view("V1", owner=("village", "T01-V001")))
    await put_view(redis_client, keys, make_view("T1", owner=("township", "T01")))
    await put_view(
        redis_client, keys, make_view("T2", grid="T02-V001-G001", owner=("township", "T02"))
    )


async def test_hub_lists(call: Call, hubs: None) -> None:
    r = await call("village", "GET", "/v1/hubs/village/T01-V001/open")
    assert [m["id"] for m in r.json()["items"]] == ["V1"]
    r = await call("township", "GET", "/v1/hubs/township/T01/open")
    assert [m["id"] for m in r.json()["items"]] == ["T1"]
    r = await call("township", "GET", "/v1/hubs/village/T01-V001/open")
    assert [m["id"] for m in r.json()["items"]] == ["V1"]
    r = await call("operator", "GET", "/v1/hubs/township/T02/open")
    assert [m["id"] for m in r.json()["items"]] == ["T2"]


async def test_hubs_out_of_scope(call: Call, hubs: None) -> None:
    assert (await call("township_out", "GET", "/v1/hubs/township/T01/open")).status_code == 404
    assert (await call("township_out", "GET", "/v1/hubs/village/T01-V001/open")).status_code == 404
    assert (await call("village_out", "GET", "/v1/hubs/village/T01-V001/open")).status_code == 404
    assert (await call("village", "GET", "/v1/hubs/township/T01/open")).status_code == 404
    assert (await call("dept", "GET", "/v1/hubs/township/T01/open")).status_code == 403
    assert (await call("operator", "GET", "/v1/hubs/township/T99/open")).status_code == 404
    assert (await call("operator", "GET", "/v1/hubs/city/X/open")).status_code == 422

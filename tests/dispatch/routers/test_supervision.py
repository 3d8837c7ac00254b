"""The supervisors' live warnings and overdue list, with filters and scope."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from gridhub.keys import RedisKeys
from tests.dispatch.conftest import Call
from tests.dispatch.seed import make_alert, make_view, put_alert, put_view

pytestmark = pytest.mark.integration


@pytest.fixture
async def alerts(redis_client: aioredis.Redis, keys: RedisKeys) -> None:
    await put_view(redis_client, keys, make_view("M1", warning_level="red"))
    await put_view(redis_client, keys, make_view("M2", warning_level="yellow"))
    await put_view(
        redis_client,
        keys,
        make_view("M3", grid="T02-V001-G001", owner=("township", "T02"), warning_level="escalated"),
    )
    for alert in (
        make_alert("w1", "M1", "red"),
        make_alert("w2", "M2", "yellow", kind="sign_for"),
        make_alert("w3", "M3", "escalate", township="T02", village="T02-V001"),
        make_alert("w4", "M1", "red", kind="report_in", department="GAJ"),
    ):
        await put_alert(redis_client, keys, alert)


async def test_warnings_filters(call: Call, alerts: None) -> None:
    async def ids(query: str = "", who: str = "supervisor") -> list[str]:
        r = await call(who, "GET", f"/v1/warnings?{query}")
        assert r.status_code == 200, r.text
        return sorted(a["id"] for a in r.json()["items"])

    assert await ids() == ["w1", "w2", "w3", "w4"]
    assert await ids("level=yellow") == ["w2"]
    assert await ids("overdue=true") == ["w1", "w3", "w4"]
    assert await ids("kind=report_in") == ["w4"]
    assert await ids("department=GAJ") == ["w4"]
    assert await ids("township=T02") == ["w3"]
    assert await ids(who="township") == ["w1", "w2", "w4"]
    assert await ids(who="township_out") == ["w3"]
    r = await call("supervisor", "GET", "/v1/warnings?level=yellow")
    assert r.json()["items"][0]["matter"]["id"] == "M2"
    assert (await call("dept", "GET", "/v1/warnings")).status_code == 403


async def test_overdue_list(call: Call, alerts: None) -> None:
    r = await call("supervisor", "GET", "/v1/overdue")
    assert sorted(m["id"] for m in r.json()["items"]) == ["M1", "M3"]
    r = await call("township", "GET", "/v1/overdue")
    assert [m["id"] for m in r.json()["items"]] == ["M1"]

"""Reading matters: the view, the timeline (全程记录), the contact, the city list."""

from __future__ import annotations

import orjson
import pytest
import redis.asyncio as aioredis

from gridhub.keys import RedisKeys
from tests.dispatch.conftest import Call
from tests.dispatch.seed import event, make_view, put_timeline, put_view

pytestmark = pytest.mark.integration


@pytest.fixture
async def seeded(redis_client: aioredis.Redis, keys: RedisKeys) -> None:
    await put_view(redis_client, keys, make_view("M1"))
    await put_view(
        redis_client,
        keys,
        make_view("M2", grid="T02-V001-G001", owner=("township", "T02"), departments=[]),
    )
    contact = {"name": "王小明", "phone": "13812345678", "email": "wxm@example.com"}
    await redis_client.set(keys.contact("M1"), orjson.dumps(contact))
    await put_timeline(
        redis_client,
        keys,
        "M1",
        [
            event("accepted", "", "accepted", 1, "system", "system"),
            event("assigned", "accepted", "assigned", 1, "system", "system", seq=1),
            event("rejected", "assigned", "assigned", 1, "u-x", "department", reason="no"),
            event("signed_for", "assigned", "signed_for", 2, "u-dept", "department"),
        ],
    )


async def test_view_in_scope_and_404_out_of_scope(call: Call, seeded: None) -> None:
    r = await call("dept", "GET", "/v1/matters/M1")
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == "M1" and body["owner"] == {"kind": "department", "code": "ZJJ"}
    assert "contact" not in body and "reporter" not in body
    for who in ("dept_out", "township_out", "village_out", "worker_out"):
        r = await call(who, "GET", "/v1/matters/M1")
        assert r.status_code == 404, who
        assert r.json() == {
            "error": {"code": "not_found", "message": "no such matter", "field": None}
        }
    for who in ("township", "village", "worker", "operator", "auditor", "leader"):
        assert (await call(who, "GET", "/v1/matters/M1")).status_code == 200, who
    assert (await call("operator", "GET", "/v1/matters/NOPE")).status_code == 404


async def test_timeline_in_order_without_rejections_by_default(call: Call, seeded: None) -> None:
    r = await call("township", "GET", "/v1/matters/M1/timeline")
    assert r.status_code == 200
    events = r.json()["events"]
    assert [e["type"] for e in events] == ["accepted", "assigned", "signed_for"]
    assert events[-1]["actor"]["user_id"] == "u-dept"
    assert (events[-1]["before_state"], events[-1]["after_state"]) == ("assigned", "signed_for")
    r = await call("township", "GET", "/v1/matters/M1/timeline?include_rejected=true")
    assert [e["type"] for e in r.json()["events"]][2] == "rejected"
    assert (await call("township_out", "GET", "/v1/matters/M1/timeline")).status_code == 404


async def test_contact_full_for_holder_and_operator_masked_for_auditor(
    call: Call, seeded: None
) -> None:
    for who in ("dept", "operator"):
        r = await call(who, "GET", "/v1/matters/M1/contact")
        assert r.status_code == 200, who
        assert r.json() == {
            "matter_id": "M1",
            "masked": False,
            "name": "王小明",
            "phone": "13812345678",
            "email": "wxm@example.com",
        }
    r = await call("auditor", "GET", "/v1/matters/M1/contact")
    assert r.json() == {
        "matter_id": "M1",
        "masked": True,
        "name": "王**",
        "phone": "138****5678",
        "email": "w**@example.com",
    }
    for who in ("township", "village", "worker", "supervisor", "leader"):
        r = await call(who, "GET", "/v1/matters/M1/contact")
        assert r.status_code == 403, who
        assert "13812345678" not in r.text
    assert (await call("dept_out", "GET", "/v1/matters/M1/contact")).status_code == 404


async def test_city_list_merges_every_open_set(call: Call, seeded: None) -> None:
    r = await call("operator", "GET", "/v1/matters")
    assert r.status_code == 200
    assert {m["id"] for m in r.json()["items"]} == {"M1", "M2"}
    r = await call("operator", "GET", "/v1/matters?township=T02")
    assert [m["id"] for m in r.json()["items"]] == ["M2"]
    assert (await call("township", "GET", "/v1/matters")).status_code == 403

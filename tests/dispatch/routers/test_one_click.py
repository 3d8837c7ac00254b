"""One-click commands: issue → Delta "command" on wallboard.updates → acks → Delta
"command_ack"; targets only, once each."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from gridhub.cloudevents import decode
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics
from tests.dispatch.conftest import Call
from tests.dispatch.seed import make_view, put_view
from tests.support.kafka_topics import read_all

pytestmark = pytest.mark.integration

TARGETS = [{"kind": "township", "code": "T01"}, {"kind": "department", "code": "ZJJ"}]


async def test_issue_push_and_acknowledge(
    call: Call, settings: Settings, topics: Topics, redis_client: aioredis.Redis, keys: RedisKeys
) -> None:
    await put_view(redis_client, keys, make_view("M1"))
    body = {"text": "立即到场处置", "targets": TARGETS, "matter_id": "M1", "ack_within_minutes": 10}
    r = await call("operator", "POST", "/v1/one-click", json=body)
    assert r.status_code == 201, r.text
    doc = r.json()
    cid = doc["command_id"]
    assert doc["pending"] == ["township:T01", "department:ZJJ"] and doc["acks"] == {}

    deltas = [decode(x.value, x.headers).data for x in read_all(settings, topics.wallboard, 1)]
    assert deltas[0]["kind"] == "command"
    data = deltas[0]["data"]
    assert (data["command_id"], data["text"], data["targets"]) == (cid, "立即到场处置", TARGETS)
    assert data["issued_by"]["role"] == "city_operator" and data["ack_due_at"]

    assert (
        await call("township_out", "POST", f"/v1/one-click/{cid}/ack", json={})
    ).status_code == 404
    assert (await call("village", "POST", f"/v1/one-click/{cid}/ack", json={})).status_code == 404
    r = await call("township", "POST", f"/v1/one-click/{cid}/ack", json={"note": "收到"})
    assert r.status_code == 200
    assert r.json()["pending"] == ["department:ZJJ"]
    ack = r.json()["acks"]["township:T01"]
    assert ack["user"] == "u-township" and ack["on_time"] is True
    again = await call("township", "POST", f"/v1/one-click/{cid}/ack", json={"note": "again"})
    assert again.json()["acks"]["township:T01"]["note"] == "收到"  # the first ack stands
    r = await call("operator", "POST", f"/v1/one-click/{cid}/ack", json={"target": TARGETS[1]})
    assert r.json()["pending"] == []

    deltas = [decode(x.value, x.headers).data for x in read_all(settings, topics.wallboard, 3)]
    acks = [d["data"] for d in deltas if d["kind"] == "command_ack"]
    assert [a["target"] for a in acks] == [TARGETS[0], TARGETS[1]]

    assert (await call("dept", "GET", f"/v1/one-click/{cid}")).status_code == 200
    assert (await call("dept_out", "GET", f"/v1/one-click/{cid}")).status_code == 404
    listed = await call("dept", "GET", "/v1/one-click")
    assert [c["command_id"] for c in listed.json()["items"]] == [cid]
    assert (await call("dept_out", "GET", "/v1/one-click")).json()["items"] == []
    assert (await call("operator", "GET", "/v1/one-click?open_only=true")).json()["items"] == []


async def test_issue_rules(call: Call, topics: Topics) -> None:
    villages = [{"kind": "village", "code": "T01-V001"}]
    r = await call("township", "POST", "/v1/one-click", json={"text": "巡查", "targets": villages})
    assert r.status_code == 201
    r = await call("township", "POST", "/v1/one-click", json={"text": "x", "targets": TARGETS})
    assert r.status_code == 403
    r = await call("township_out", "POST", "/v1/one-click", json={"text": "x", "targets": villages})
    assert r.status_code == 403
    bad = [{"kind": "department", "code": "NOPE"}]
    r = await call("operator", "POST", "/v1/one-click", json={"text": "x", "targets": bad})
    assert r.status_code == 422 and r.json()["error"]["field"] == "targets.0.code"
    r = await call("operator", "POST", "/v1/one-click", json={"text": "x", "targets": []})
    assert r.status_code == 422
    r = await call(
        "operator",
        "POST",
        "/v1/one-click",
        json={"text": "x", "targets": TARGETS, "ack_due_at": "2001-01-01T00:00:00Z"},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "ack_due_at"
    for who in ("dept", "supervisor", "village", "auditor"):
        r = await call(who, "POST", "/v1/one-click", json={"text": "x", "targets": TARGETS})
        assert r.status_code == 403, who

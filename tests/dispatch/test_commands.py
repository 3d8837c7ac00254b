"""Commands reach matters.commands as CloudEvents (key = matter id, actor recorded), a slow
apply answers 202 with a status URL, and the status endpoint reads streams/' result."""

from __future__ import annotations

import orjson
import pytest
import redis.asyncio as aioredis

from gridhub.cloudevents import decode
from gridhub.domain.commands import Resolve, command_from_dict
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics
from tests.dispatch.conftest import Call
from tests.dispatch.seed import make_view, put_view
from tests.support.kafka_topics import read_all

pytestmark = pytest.mark.integration


async def test_command_is_published_with_actor_and_answers_202_when_not_applied(
    call: Call, settings: Settings, topics: Topics, redis_client: aioredis.Redis, keys: RedisKeys
) -> None:
    await put_view(redis_client, keys, make_view("M1", state="signed_for"))
    body = {"result": "已修复", "attachments": ["https://files.example/a.jpg"]}
    r = await call("dept", "POST", "/v1/matters/M1/resolve", json=body)
    assert r.status_code == 202, r.text
    doc = r.json()
    assert doc["status"] == "pending" and doc["matter_id"] == "M1"
    assert r.headers["location"] == doc["status_url"] == f"/v1/commands/{doc['command_id']}"

    records = read_all(settings, topics.commands, min_count=1)
    assert len(records) == 1
    record = records[0]
    assert record.key == b"M1"
    event = decode(record.value, record.headers)
    assert event.type == "gridhub.matter.command.v1" and event.id == doc["command_id"]
    command = command_from_dict(event.data)
    assert isinstance(command, Resolve)
    assert command.result == "已修复" and command.attachments == ("https://files.example/a.jpg",)
    assert command.command_id == doc["command_id"]
    assert (command.actor.user_id, command.actor.role) == ("u-dept", "department")
    assert (command.actor.scope_kind, command.actor.scope_code) == ("department", "ZJJ")

    r = await call("dept", "GET", doc["status_url"])
    assert r.status_code == 200 and r.json()["status"] == "pending"


async def test_status_reads_the_command_result(
    call: Call, topics: Topics, redis_client: aioredis.Redis, keys: RedisKeys
) -> None:
    """The status endpoint maps a CommandResult (as streams/ pushes it) to the answer."""
    await put_view(redis_client, keys, make_view("M1", state="assigned"))
    first = (await call("dept", "POST", "/v1/matters/M1/sign-for")).json()
    second = (await call("dept", "POST", "/v1/matters/M1/sign-for")).json()
    applied = {
        "command_id": first["command_id"],
        "matter_id": "M1",
        "status": "applied",
        "state": "signed_for",
        "version": 4,
        "events": ["signed_for"],
    }
    await put_view(redis_client, keys, make_view("M1", state="signed_for", version=4))
    await redis_client.rpush(keys.command_result(first["command_id"]), orjson.dumps(applied))
    rejected = {
        "command_id": second["command_id"],
        "matter_id": "M1",
        "status": "rejected",
        "reason": "only an assigned matter can be signed for",
        "events": ["rejected"],
    }
    await redis_client.rpush(keys.command_result(second["command_id"]), orjson.dumps(rejected))

    r = await call("dept", "GET", first["status_url"])
    doc = r.json()
    assert (doc["status"], doc["state"], doc["version"]) == ("applied", "signed_for", 4)
    assert doc["matter"]["state"] == "signed_for"
    r = await call("dept", "GET", second["status_url"])
    assert r.json()["status"] == "rejected" and "assigned" in r.json()["reason"]
    # the result stays readable (the wait does not consume it) and is private to its submitter
    assert (await call("dept", "GET", first["status_url"])).json()["status"] == "applied"
    assert (await call("dept_out", "GET", first["status_url"])).status_code == 404
    assert (await call("township", "GET", first["status_url"])).status_code == 404
    assert (await call("supervisor", "GET", first["status_url"])).status_code == 200
    assert (await call("dept", "GET", "/v1/commands/cunknown")).status_code == 404


async def test_out_of_scope_command_publishes_nothing(
    call: Call, settings: Settings, topics: Topics, redis_client: aioredis.Redis, keys: RedisKeys
) -> None:
    await put_view(redis_client, keys, make_view("M1", state="assigned"))
    assert (await call("dept_out", "POST", "/v1/matters/M1/sign-for")).status_code == 404
    assert (await call("auditor", "POST", "/v1/matters/M1/sign-for")).status_code == 403
    r = await call("operator", "POST", "/v1/matters/M1/forward", json={"departments": ["NOPE"]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "departments.0"
    r = await call("dept", "POST", "/v1/matters/M1/resolve", json={"result": ""})
    assert r.status_code == 422 and r.json()["error"]["field"] == "result"
    assert read_all(settings, topics.commands, timeout=1) == []

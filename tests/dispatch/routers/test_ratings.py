"""Citizens' rating links: signed per matter; the link is the only credential."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from gridhub.cloudevents import decode
from gridhub.domain.commands import Rate, command_from_dict
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics
from tests.dispatch.conftest import Call
from tests.dispatch.seed import make_view, put_view
from tests.support.kafka_topics import read_all

pytestmark = pytest.mark.integration


@pytest.fixture
async def resolved(redis_client: aioredis.Redis, keys: RedisKeys) -> None:
    view = make_view("M1", state="resolved", resolved_at="2025-03-11T08:00:00+00:00")
    await put_view(redis_client, keys, view)


async def test_link_rate_and_forgery(
    call: Call, resolved: None, settings: Settings, topics: Topics
) -> None:
    r = await call("dept", "GET", "/v1/matters/M1/rating-link")
    assert r.status_code == 200, r.text
    link = r.json()
    assert link["url"].endswith(f"/v1/ratings/{link['token']}")
    assert link["token"].startswith("M1.")
    assert (await call("operator", "GET", "/v1/matters/M1/rating-link")).json() == link
    assert (await call("township", "GET", "/v1/matters/M1/rating-link")).status_code == 403
    assert (await call("dept_out", "GET", "/v1/matters/M1/rating-link")).status_code == 404

    page = await call(None, "GET", f"/v1/ratings/{link['token']}")
    assert page.status_code == 200
    assert page.json() == {
        "matter_id": "M1",
        "category": "供热问题",
        "state": "resolved",
        "resolved_at": "2025-03-11T08:00:00+00:00",
        "rating": None,
        "can_rate": True,
    }
    forged = link["token"][:-2] + ("AA" if not link["token"].endswith("AA") else "BB")
    for bad in (forged, "M2." + link["token"].split(".", 1)[1], "nodot"):
        assert (await call(None, "GET", f"/v1/ratings/{bad}")).status_code == 404
        r = await call(None, "POST", f"/v1/ratings/{bad}", json={"rating": "satisfied"})
        assert r.status_code == 404

    r = await call(
        None,
        "POST",
        f"/v1/ratings/{link['token']}",
        json={"rating": "not_satisfied", "comment": "<b>暖气还是不热</b>"},
    )
    assert r.status_code == 202  # streams/ is not running in this test
    records = read_all(settings, topics.commands, min_count=1)
    command = command_from_dict(decode(records[0].value, records[0].headers).data)
    assert isinstance(command, Rate)
    assert (command.rating, command.comment) == ("not_satisfied", "<b>暖气还是不热</b>")
    assert (command.actor.role, command.actor.user_id) == ("citizen", "citizen:M1")
    r = await call(None, "POST", f"/v1/ratings/{link['token']}", json={"rating": "great"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "rating"

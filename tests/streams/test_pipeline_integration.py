"""The worker end to end through real Kafka and Redis (``python -m streams worker``).

Covers the acceptance evidence of issue 3: intake reaches the right department topic with
the right deadline and the projections; a village matter reported up lands at its
township; a whistle where one department never reports in gives exactly one overdue alert;
TEST-FAST yellow then red at the right times; poison records go to the dead letter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import redis.asyncio as aioredis

from gridhub.cloudevents import CloudEvent, encode
from gridhub.domain.commands import Actor, ReportIn, ReportUp, Whistle
from gridhub.domain.context import Context
from gridhub.domain.machine import apply
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics
from streams.context import build_context
from streams.processor import accept_command
from tests.streams.support import (
    TOWNSHIP_ACTOR,
    VILLAGE_ACTOR,
    cmd_record,
    collect,
    dept_city,
    drop_topics,
    intake_matter,
    intake_record,
    prepare_topics,
    publish,
    publish_raw,
    wait_for,
    with_city,
    worker,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def env(settings: Settings, tmp_path: Path) -> Iterator[tuple[Settings, Topics, Context]]:
    """The test's settings (department city), its topics, and the running worker."""
    s = with_city(settings, dept_city(tmp_path))
    topics = prepare_topics(s)
    try:
        with worker(s, tmp_path / "faust"):
            warm_up(s, topics)
            yield s, topics, build_context(s)
    finally:
        drop_topics(s)


def warm_up(s: Settings, topics: Topics) -> None:
    """Wait until the worker has joined its group and processes records (timing tests)."""
    m = intake_matter("TEST-DEPT")
    publish(s, topics.intake, [intake_record(m)])
    seen = asyncio.run(
        collect(s, topics.events, lambda evs: any(e.subject == m.matter_id for e in evs))
    )
    assert any(e.subject == m.matter_id for e in seen), "the worker did not start"


def dept_actor(code: str) -> Actor:
    return Actor(user_id=f"u-{code}", role="department", scope_kind="department", scope_code=code)


async def test_intake_reaches_its_department_with_the_deadline(
    env: tuple[Settings, Topics, Context], redis_client: aioredis.Redis
) -> None:
    s, topics, ctx = env
    m = intake_matter("TEST-DEPT")
    publish(s, topics.intake, [intake_record(m)])
    tasks = await collect(
        s, topics.department("ZJJ"), lambda evs: any(e.subject == m.matter_id for e in evs)
    )
    [task] = [t for t in tasks if t.subject == m.matter_id]
    expected, _ = apply(None, accept_command(m), ctx)
    assert expected is not None
    assert task.subject == m.matter_id and task.type == "gridhub.dept.task.v1"
    assert task.data["role"] == "owner"
    assert task.data["deadlines"]["resolve"] == expected.deadlines["resolve"].due_at.isoformat()
    assert task.data["deadlines"]["sign_for"] == expected.deadlines["sign_for"].due_at.isoformat()
    keys = RedisKeys(s.redis_prefix)
    view = await wait_for(lambda: redis_client.get(keys.matter(m.matter_id)))
    view = orjson.loads(view)
    assert view["owner"] == {"kind": "department", "code": "ZJJ"} and "reporter" not in view
    contact = orjson.loads(await redis_client.get(keys.contact(m.matter_id)))
    assert contact["phone"] == "13800000000"
    score = await redis_client.zscore(keys.dept_queue("ZJJ"), m.matter_id)
    assert score == expected.deadlines["resolve"].due_at.timestamp()
    for kind, code in (("city", ctx.city.code), ("township", "T01"), ("village", "T01-V001")):
        assert await redis_client.zscore(keys.hub_open(kind, code), m.matter_id) is not None
    timeline = await redis_client.lrange(keys.timeline(m.matter_id), 0, -1)
    assert [orjson.loads(e)["type"] for e in timeline] == ["accepted", "assigned"]
    kpi_keys = [
        k async for k in redis_client.scan_iter(match=f"{s.redis_prefix}kpi:township:T01:*")
    ]
    assert len(kpi_keys) == 2  # the day and the month
    for key in kpi_keys:
        assert await redis_client.hget(key, "accepted") == b"2"  # with the warm-up matter


async def test_village_matter_reported_up_lands_at_its_township(
    env: tuple[Settings, Topics, Context], redis_client: aioredis.Redis
) -> None:
    s, topics, _ = env
    m = intake_matter("TEST-FAST")
    publish(s, topics.intake, [intake_record(m)])
    keys = RedisKeys(s.redis_prefix)
    await wait_for(lambda: redis_client.get(keys.matter(m.matter_id)))
    up = ReportUp(
        matter_id=m.matter_id,
        actor=VILLAGE_ACTOR,
        at=datetime.now(UTC),
        reason="cannot solve",
        command_id="c-up-1",
    )
    publish(s, topics.commands, [cmd_record(up)])
    result = await wait_for(lambda: redis_client.lindex(keys.command_result("c-up-1"), 0))
    assert orjson.loads(result)["status"] == "applied"
    view = orjson.loads(await redis_client.get(keys.matter(m.matter_id)))
    assert view["owner"] == {"kind": "township", "code": "T01"}
    assert await redis_client.zscore(keys.hub_open("township", "T01"), m.matter_id) is not None
    events = await collect(
        s, topics.events, lambda evs: any(e.data["type"] == "reported_up" for e in evs)
    )
    assert any(e.data["type"] == "reported_up" for e in events)


async def test_whistle_one_department_never_reports_in(
    env: tuple[Settings, Topics, Context],
) -> None:
    s, topics, _ = env
    m = intake_matter("LIV-HEATING")  # township tier, T01
    publish(s, topics.intake, [intake_record(m)])
    await collect(s, topics.events, lambda evs: any(e.subject == m.matter_id for e in evs))
    now = datetime.now(UTC)
    whistle = Whistle(
        matter_id=m.matter_id,
        actor=TOWNSHIP_ACTOR,
        at=now,
        departments=("ZJJ", "GAJ", "CGJ"),
        report_in_due=now + timedelta(seconds=4),
        command_id="c-wh",
    )
    reports = [
        ReportIn(matter_id=m.matter_id, actor=dept_actor(d), at=now, department=d)
        for d in ("ZJJ", "GAJ")
    ]
    publish(s, topics.commands, [cmd_record(whistle), *[cmd_record(r) for r in reports]])

    def overdue(evs: list[CloudEvent]) -> list[CloudEvent]:
        return [e for e in evs if e.data["level"] == "red" and e.data["kind"] == "report_in"]

    alerts = await collect(s, topics.alerts, lambda evs: bool(overdue(evs)), settle=3.0)
    [red] = overdue(alerts)
    assert red.data["department"] == "CGJ" and red.data["matter_id"] == m.matter_id
    fired = datetime.fromisoformat(red.data["fired_at"])
    assert fired - datetime.fromisoformat(red.data["due_at"]) < timedelta(seconds=1.5)
    summoned = await collect(s, topics.department("CGJ"), lambda evs: len(evs) >= 1)
    assert {e.subject for e in summoned} == {m.matter_id}
    assert summoned[0].data["role"] == "summoned"


async def test_short_sla_yellow_then_red(env: tuple[Settings, Topics, Context]) -> None:
    s, topics, _ = env
    m = intake_matter("TEST-FAST", urgency="urgent")  # sign_for 4 s: yellow at 3.2 s, red at 4 s
    publish(s, topics.intake, [intake_record(m)])

    def sign_for(evs: list[CloudEvent]) -> list[CloudEvent]:
        return [e for e in evs if e.data["kind"] == "sign_for" and e.subject == m.matter_id]

    alerts = await collect(
        s, topics.alerts, lambda evs: len(sign_for(evs)) >= 2, within=30, settle=1.0
    )
    levels = [a.data["level"] for a in sign_for(alerts)]
    assert levels == ["yellow", "red"]
    for alert in sign_for(alerts):
        due = datetime.fromisoformat(alert.data["due_at"])
        fired = datetime.fromisoformat(alert.data["fired_at"])
        assert timedelta(0) <= fired - due < timedelta(seconds=1.5), alert.data
    yellow_due = datetime.fromisoformat(sign_for(alerts)[0].data["due_at"])
    assert abs((yellow_due - m.received_at).total_seconds() - 3.2) < 0.01


async def test_poison_records_go_to_the_dead_letter(
    env: tuple[Settings, Topics, Context],
) -> None:
    s, topics, _ = env
    publish_raw(s, topics.intake, b"M1", b"\x00garbage", [])
    bad = intake_matter("TEST-DEPT").model_dump(mode="json")
    bad["grid"] = "NOWHERE"
    future = CloudEvent.new("matter.intake", 7, source="/t", subject="M2", data=bad)
    unknown = CloudEvent.new("matter.intake", 1, source="/t", subject=bad["matter_id"], data=bad)
    good = intake_matter("TEST-DEPT")
    publish(s, topics.intake, [encode(future), encode(unknown), intake_record(good)])
    dead = await collect(s, topics.dead_letter, lambda evs: len(evs) >= 3)
    reasons = sorted(d.data["reason"] for d in dead)
    assert any("ce_specversion" in r for r in reasons)
    assert any("schema version from the future" in r for r in reasons)
    assert any("unknown grid 'NOWHERE'" in r for r in reasons)
    tasks = await collect(
        s, topics.department("ZJJ"), lambda evs: any(e.subject == good.matter_id for e in evs)
    )
    assert any(e.subject == good.matter_id for e in tasks)

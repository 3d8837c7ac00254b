"""End to end with the real stream processor (needs streams/): a full matter life through the
API, and the basic round trips. Skipped while streams/ is not in the tree.

Depends on streams/: every test in this module.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kafka import KafkaProducer

from gridhub.cloudevents import encode
from gridhub.intake import IntakeMatter, Reporter, Source, intake_event, matter_id_for
from gridhub.settings import Settings
from gridhub.topics import Topics
from streams.progress import input_progress
from tests.dispatch.conftest import Call
from tests.dispatch.streams_worker import log_name, needs_streams, streams_worker
from tests.streams.support import worker_log_tail

pytestmark = [pytest.mark.integration, needs_streams]


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"command_wait_seconds": 15, "dispatch_webhooks": False})


@pytest.fixture
def worker(settings: Settings, topics: Topics) -> Iterator[None]:
    with streams_worker(settings):
        yield


def submit_intake(settings: Settings, source_id: str) -> str:
    matter_id = matter_id_for("hotline-12345", source_id)
    matter = IntakeMatter(
        matter_id=matter_id,
        source=Source.HOTLINE_12345,
        source_id=source_id,
        received_at=datetime.now(UTC),
        category="TEST-FAST",
        grid="T01-V001-G001",
        description="小区路灯不亮",
        reporter=Reporter(name="李四", phone="13900001111"),
    )
    record = encode(intake_event(matter))
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    producer.send(
        Topics.from_settings(settings).intake,
        key=record.key,
        value=record.value,
        headers=record.headers,
    )
    producer.flush()
    producer.close()
    return matter_id


async def wait_for(
    call: Call, settings: Settings, who: str, matter_id: str, within: float = 90
) -> dict[str, Any]:
    """The matter's view once the worker has projected it; on timeout the assertion names
    the worker's input progress and ends with its log (CI keeps only the test's output)."""
    try:
        async with asyncio.timeout(within):
            while True:
                r = await call(who, "GET", f"/v1/matters/{matter_id}")
                if r.status_code == 200:
                    return r.json()
                await asyncio.sleep(0.25)
    except TimeoutError:
        progress = await input_progress(settings)
        tail = worker_log_tail(log_name(settings))
        raise AssertionError(
            f"{matter_id} not visible to {who} after {within} s; input {progress}\n{tail}"
        ) from None


async def ok(call: Call, who: str, path: str, body: Any = None, state: str | None = None) -> dict:
    r = await call(who, "POST", path, json=body if body is not None else {})
    assert r.status_code == 200, f"{who} {path}: {r.status_code} {r.text}"
    doc = r.json()
    assert doc["status"] == "applied"
    if state is not None:
        assert doc["state"] == state, (path, doc)
    return doc


async def test_full_matter_life(call: Call, settings: Settings, worker: None) -> None:
    mid = submit_intake(settings, "life-1")
    view = await wait_for(call, settings, "village", mid)
    assert view["owner"] == {"kind": "village", "code": "T01-V001"}
    m = f"/v1/matters/{mid}"

    await ok(call, "village", f"{m}/sign-for", state="signed_for")
    up = await ok(call, "village", f"{m}/report-up", {"reason": "村里解决不了"}, "assigned")
    assert up["matter"]["owner"] == {"kind": "township", "code": "T01"}
    assert (await call("village", "GET", m)).status_code == 200  # still its grid's matter
    await ok(call, "township", f"{m}/sign-for", state="signed_for")
    due = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    await ok(
        call, "township", f"{m}/whistle", {"departments": ["ZJJ", "GAJ"], "report_in_due": due}
    )
    await ok(call, "dept", f"{m}/report-in", {"note": "住建局报到"})
    r = await call("dept", "POST", f"{m}/report-in", json={})
    assert r.status_code == 409 and "already reported in" in r.json()["error"]["message"]
    await ok(call, "dept_out", f"{m}/report-in", {"note": "公安局报到"})
    await ok(call, "operator", f"{m}/forward", {"departments": ["ZJJ", "GAJ"]}, "assigned")
    r = await call("dept", "POST", f"{m}/resolve", json={"result": "x"})
    assert r.status_code == 409  # not signed for yet: the domain's reason
    await ok(call, "dept", f"{m}/sign-for", state="signed_for")
    await ok(call, "dept_out", f"{m}/progress", {"note": "公安配合维持秩序"}, "in_progress")
    await ok(call, "dept", f"{m}/resolve", {"result": "已更换路灯"}, "resolved")

    link = (await call("dept", "GET", f"{m}/rating-link")).json()
    r = await call(
        None,
        "POST",
        f"/v1/ratings/{link['token']}",
        json={"rating": "not_satisfied", "comment": "还是不亮"},
    )
    assert r.status_code == 200 and r.json()["state"] == "assigned"
    reopened = (await call("dept", "GET", m)).json()
    assert reopened["owner"] == {"kind": "department", "code": "ZJJ"}
    await ok(call, "dept", f"{m}/sign-for", state="signed_for")
    await ok(call, "dept", f"{m}/resolve", {"result": "已更换线路"}, "resolved")
    r = await call(None, "POST", f"/v1/ratings/{link['token']}", json={"rating": "satisfied"})
    assert r.status_code == 200 and r.json()["state"] == "closed"

    timeline = (await call("operator", "GET", f"{m}/timeline")).json()["events"]
    steps = [
        (e["type"], e["actor"]["role"], e["before_state"], e["after_state"])
        for e in timeline
        if e["type"] not in ("warning", "grid_alert")
    ]
    assert steps == [
        ("accepted", "grid_worker", "", "accepted")
        if steps[0][1] == "grid_worker"
        else ("accepted", steps[0][1], "", "accepted"),
        ("assigned", steps[1][1], "accepted", "assigned"),
        ("signed_for", "village_hub", "assigned", "signed_for"),
        ("reported_up", "village_hub", "signed_for", "assigned"),
        ("signed_for", "township_hub", "assigned", "signed_for"),
        ("whistled", "township_hub", "signed_for", "signed_for"),
        ("reported_in", "department", "signed_for", "signed_for"),
        ("reported_in", "department", "signed_for", "signed_for"),
        ("forwarded", "city_operator", "signed_for", "assigned"),
        ("signed_for", "department", "assigned", "signed_for"),
        ("progress_added", "department", "signed_for", "in_progress"),
        ("resolved", "department", "in_progress", "resolved"),
        ("rated", "citizen", "resolved", "resolved"),
        ("reopened", "citizen", "resolved", "assigned"),
        ("signed_for", "department", "assigned", "signed_for"),
        ("resolved", "department", "signed_for", "resolved"),
        ("rated", "citizen", "resolved", "resolved"),
        ("closed", "citizen", "resolved", "closed"),
    ]
    report_ins = [e for e in timeline if e["type"] == "reported_in"]
    assert [(e["department"], e["actor"]["scope_code"]) for e in report_ins] == [
        ("ZJJ", "ZJJ"),
        ("GAJ", "GAJ"),
    ]
    assert all(e["at"] for e in timeline)
    contact = (await call("dept", "GET", f"{m}/contact")).json()
    assert contact["phone"] == "13900001111"
    assert (await call("township", "GET", f"{m}/contact")).status_code == 403


async def test_operator_actions_round_trip(call: Call, settings: Settings, worker: None) -> None:
    a = submit_intake(settings, "ops-a")
    b = submit_intake(settings, "ops-b")
    await wait_for(call, settings, "operator", a)
    await wait_for(call, settings, "operator", b)
    ma, mb = f"/v1/matters/{a}", f"/v1/matters/{b}"
    await ok(call, "operator", f"{ma}/assign", {"owner": {"kind": "department", "code": "CGJ"}})
    await ok(call, "operator", f"{ma}/assign", {"owner": {"kind": "department", "code": "ZJJ"}})
    done = await ok(call, "operator", f"{ma}/urge", {"note": "请尽快"})
    assert done["matter"]["urge_count"] == 1
    await ok(call, "supervisor", f"{ma}/supervise", {"note": "督办"})
    r = await call("supervisor", "POST", f"{ma}/supervise", json={})
    assert r.status_code == 409 and r.json()["error"]["message"]
    await ok(call, "dept", f"{ma}/sign-for")
    proposed = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    await ok(
        call, "dept", f"{ma}/extension-request", {"reason": "需采购", "proposed_due": proposed}
    )
    await ok(call, "supervisor", f"{ma}/extension-decision", {"approve": True})
    await ok(call, "dept", f"{ma}/return", {"reason": "非本部门职责"}, "assigned")
    await ok(call, "leader", f"{ma}/escalate", {"reason": "重大疑难"})
    await ok(call, "operator", f"{mb}/merge", {"into": a}, "merged")

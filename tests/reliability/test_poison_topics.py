"""Poison records on every topic, under steady load: undecodable bytes, a schema version from
the future, unknown codes, a key that is not the matter id, a tombstone.

Every consumer sends each poison record it reads to the dead-letter topic (its ``ce_id``
names the original topic, partition and offset; its reason names the problem) and goes on:
the stream worker on ``matters.intake`` and ``matters.commands`` (every matter of the load
is still dispatched, counted by id), the wallboard feeder on ``wallboard.updates`` and
``alerts`` (the screen still gets every matter accepted after the poison), the webhook
deliverer on ``dept.<code>`` (the department's webhook still gets every such matter's task).
On the topics no gridhub process consumes (``matters.events``, ``deadletter`` itself)
nothing crashes.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import orjson
import pytest
from kafka import KafkaProducer

from gridhub.cloudevents import CloudEvent, encode
from gridhub.settings import Settings
from tests.reliability.load import IntakeLoad, read_events, record, tally_tasks
from tests.reliability.screens import Screen
from tests.streams.support import GRID, intake_matter, intake_record
from tests.support.system import System
from tests.support.webhook_receiver import Receiver

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(300)]

Poison = tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]

#: What the reason of each record of :func:`poison_records`' ``others`` must name, in
#: order, on the topics read by the feeder (wallboard, alerts) and the webhook deliverer.
OTHER_REASONS = {
    "wallboard": [
        "ce_specversion",
        "got '0.1'",
        "ce_specversion",
        "from the future",
        "not a Delta",
        "is not gridhub.wallboard.delta.v1",
    ],
    "alerts": [
        "ce_specversion",
        "got '0.1'",
        "ce_specversion",
        "from the future",
        "is not gridhub.alert.v1",
        "alert has no id",
    ],
    "dept": [
        "ce_specversion",
        "got '0.1'",
        "ce_specversion",
        "from the future",
        "is not gridhub.dept.task.v1",
        "is not gridhub.dept.task.v1",
    ],
}


def _ce(name: str, version: int, data: object, subject: str | None = "M-POISON") -> tuple:
    event = CloudEvent.new(name, version, source="/poison", data=data, subject=subject)  # type: ignore[arg-type]
    r = encode(event)
    return r.key, r.value, r.headers


def poison_records(system: System) -> tuple[list[Poison], list[Poison]]:
    """(records the worker must dead-letter, records for every other topic)."""
    t = system.topics
    bad_city = intake_matter("NO-SUCH-CATEGORY", grid=GRID)
    bad_grid = intake_matter("TEST-DEPT", grid="T99-V999-G999")
    good = intake_record(intake_matter("TEST-DEPT"))
    future = _ce("matter.intake", 99, {"matter_id": "M-FUTURE"}, "M-FUTURE")
    unknown_cmd = _ce(
        "matter.command",
        1,
        {"type": "teleport", "matter_id": "M-X", "at": datetime.now(UTC).isoformat()},
        "M-X",
    )
    garbage: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]] = [
        (b"k", b"\xff\xfe\x00 not json", []),  # undecodable, no CloudEvent headers
        (b"k", b'{"a": 1}', [("ce_specversion", b"0.1"), ("ce_type", b"x")]),  # bad headers
        (b"k", None, []),  # tombstone
    ]
    streams: list[Poison] = []
    for topic in (t.intake, t.commands):
        streams += [(topic, *g) for g in garbage]
        streams.append((topic, *future))
    streams.append((t.intake, *(lambda r: (r.key, r.value, r.headers))(intake_record(bad_city))))
    streams.append((t.intake, *(lambda r: (r.key, r.value, r.headers))(intake_record(bad_grid))))
    streams.append((t.intake, b"not-the-matter-id", good.value, good.headers))  # key mismatch
    streams.append((t.commands, *unknown_cmd))
    others: list[Poison] = []
    for topic in (t.wallboard, t.alerts, t.department("ZJJ"), t.events, t.dead_letter):
        others += [(topic, *g) for g in garbage]
        others.append((topic, *_ce("wallboard.delta", 99, {"kind": "matter"})))
        others.append((topic, *_ce("wallboard.delta", 1, {"kind": "nope", "scope": 3})))
        others.append((topic, *_ce("alert", 1, {"id": 5, "matter_id": None})))
    return streams, others


def publish(settings: Settings, records: list[Poison]) -> list[tuple[str, int, int]]:
    """Publish ``records`` (acks=all); their (topic, partition, offset)."""
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    try:
        futures = [
            producer.send(topic, key=key, value=value, headers=headers)
            for topic, key, value, headers in records
        ]
        producer.flush(30)
        return [(m.topic, m.partition, m.offset) for m in (f.get(10) for f in futures)]
    finally:
        producer.close()


async def hook_department(system: System, receiver: Receiver) -> None:
    """Register ``receiver`` as ZJJ's webhook, through the API, as the department would."""
    token = await system.token("department", "ZJJ")
    async with httpx.AsyncClient(base_url=system.url("dispatch")) as api:
        r = await api.put(
            "/v1/departments/ZJJ/webhook",
            json={"url": receiver.url},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 200, r.text


async def test_poison_everywhere_under_load(system: System, rsettings: Settings) -> None:
    system.start_all()
    await system.ready()
    receiver = Receiver([])
    await hook_department(system, receiver)
    screen = Screen(await system.token("city_operator"))
    watching = asyncio.create_task(screen.watch([system.url("gateway0", "ws")]))
    load = IntakeLoad(system.url("intake"), await system.token("intake"), 10.0)
    try:
        running = asyncio.create_task(load.run(25.0))
        await asyncio.sleep(8.0)
        for_streams, for_others = poison_records(system)
        sent = await asyncio.to_thread(publish, rsettings, for_streams + for_others)
        poisoned_at = asyncio.get_running_loop().time()
        await running
        expected_dl = {f"dl:{topic}:{p}:{o}" for topic, p, o in sent[: len(for_streams)]}
        consumed = len(for_streams) + 3 * len(OTHER_REASONS["dept"])  # wallboard, alerts, dept
        must_name = dict(
            zip(
                [f"dl:{topic}:{p}:{o}" for topic, p, o in sent[len(for_streams) : consumed]],
                OTHER_REASONS["wallboard"] + OTHER_REASONS["alerts"] + OTHER_REASONS["dept"],
                strict=True,
            )
        )
        expected_dl |= set(must_name)

        for _ in range(60):
            dead = await read_events(rsettings, system.topics.dead_letter)
            if expected_dl <= {d.id for d in dead}:
                break
            await asyncio.sleep(1.0)
        dl_ids = {d.id for d in dead}
        reasons = {d.id: d.data.get("reason") for d in dead if d.id in expected_dl}
        unnamed = {
            i: reasons.get(i) for i, want in must_name.items() if want not in (reasons.get(i) or "")
        }
        await asyncio.sleep(3.0)
        tasks = await read_events(rsettings, system.topics.department("ZJJ"))
        tally = tally_tasks(tasks, load.accepted)
        late = [o.matter_id for o in load.outcomes if o.matter_id and o.at > poisoned_at + 2]
        on_board = sum(1 for m in late if m in screen.matters)
        for _ in range(120):  # the webhook works through its backlog (one POST per task)
            hooked = {orjson.loads(body).get("subject") for _, body in list(receiver.requests)}
            delivered = sum(1 for m in late if m in hooked)
            if delivered == len(late):
                break
            await asyncio.sleep(1.0)
        alive = {n: system.alive(n) for n in system.procs}
        record(
            "poison records on every topic",
            load="10 matters/s for 25 s; "
            f"{len(for_streams)} poison on streams inputs, {len(for_others)} on 5 other topics",
            webhook_after_poison=f"{delivered}/{len(late)}",
            **tally.row(),
            dead_lettered=len(expected_dl & dl_ids),
            dead_letter_expected=len(expected_dl),
            board_after_poison=f"{on_board}/{len(late)}",
            processes_alive=all(alive.values()),
            recovery_s=0.0,
        )
        assert expected_dl <= dl_ids, sorted(expected_dl - dl_ids)
        assert all(reasons.values()), reasons
        assert not unnamed, unnamed  # (dead-letter id: reason) whose reason misses the problem
        assert tally.lost == 0 and tally.duplicated == 0, tally
        assert all(alive.values()), alive
        assert late and on_board == len(late), (on_board, len(late))
        assert delivered == len(late), (delivered, len(late))  # the webhook deliverer went on
        assert not screen.errors, screen.errors[:3]
        assert len(screen.connects) == 1  # the screen kept its one connection
    finally:
        watching.cancel()
        receiver.close()

"""A deadline left in the index for a matter whose Accept is still unread fires only after
that Accept is applied (streams/catchup.py), so its tick never meets an unknown matter; a
command for such a matter waits for its Accept too (streams/delivery.py ``AfterIntake``).

The log and the index are laid out before the worker starts as a killed worker leaves them
(its timers written, its states not saved): thousands of intake records, then the matter's
Accept, on one partition, and the matter's sign-for warning due now in that partition's
deadline index. Without the gate the firer sends the tick at once, the worker applies it
before it reaches the Accept and rejects it (unknown matter); the warning then fires from
a second tick, with another time than a rebuild from Kafka gives it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiokafka.partitioner import murmur2

from gridhub.cloudevents import CloudEvent
from gridhub.domain.commands import Actor, SignFor
from gridhub.domain.sla import warning_id
from gridhub.intake import IntakeMatter
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from tests.streams.support import (
    cmd_record,
    collect,
    dept_city,
    drop_topics,
    intake_matter,
    intake_record,
    prepare_topics,
    publish,
    with_city,
    worker,
    worker_log_tail,
)

pytestmark = pytest.mark.integration

BACKLOG = 6000  # intake records before the matter's Accept: several fetches' worth
FAST = {"sign_for": "3s", "resolve": "6s", "report_in": "3s"}


def partition_of(key: str, partitions: int) -> int:
    """The partition a keyed record lands on (the producers' murmur2 default)."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def behind_a_backlog(s: Settings) -> tuple[IntakeMatter, list[IntakeMatter]]:
    """A matter, and ``BACKLOG`` matters of its intake partition to publish before it."""
    matter = intake_matter("TEST-DEPT", urgency="urgent")
    p = partition_of(matter.matter_id, s.topic_partitions)
    backlog: list[IntakeMatter] = []
    while len(backlog) < BACKLOG:
        other = intake_matter("TEST-DEPT", urgency="urgent")
        if partition_of(other.matter_id, s.topic_partitions) == p:
            backlog.append(other)
    return matter, backlog


async def test_a_deadline_of_an_unread_matter_fires_after_its_accept(
    settings: Settings, tmp_path: Path, redis_client: aioredis.Redis
) -> None:
    s = with_city(settings, dept_city(tmp_path, FAST))
    topics = prepare_topics(s)
    matter, backlog = behind_a_backlog(s)
    p = partition_of(matter.matter_id, s.topic_partitions)
    records = [intake_record(m) for m in [*backlog, matter]]
    assert records[-1].key == matter.matter_id.encode()  # what partition_of hashes
    publish(s, topics.intake, records)
    wid = warning_id(matter.matter_id, "sign_for", 1, "yellow")
    await redis_client.zadd(RedisKeys(s.redis_prefix).deadlines(p), {wid: time.time()})

    log = f"streams-test-{s.topic_prefix.strip('.')}"  # the name worker() logs under
    try:
        with worker(s, tmp_path / "faust", GRIDHUB_STREAMS_BATCH_SIZE="500"):

            def fired(evs: list[CloudEvent]) -> bool:
                return any(e.id == wid for e in evs)

            alerts = await collect(s, topics.alerts, fired, within=120)

            def accepted(evs: list[CloudEvent]) -> bool:
                return any(
                    e.subject == matter.matter_id and e.data["type"] == "accepted" for e in evs
                )

            events = await collect(s, topics.events, accepted, settle=1.0)
            tail = worker_log_tail(log)
    finally:
        drop_topics(s)
    mine = [e for e in events if e.subject == matter.matter_id]
    assert any(e.data["type"] == "accepted" for e in mine), tail
    rejected = [e.data["reason"] for e in mine if e.data["type"] == "rejected"]
    assert rejected == [], f"a tick met the matter before its Accept: {rejected}\n{tail}"
    assert [a.id for a in alerts].count(wid) >= 1, tail


async def test_a_command_for_an_unread_matter_is_applied_after_its_accept(
    settings: Settings, tmp_path: Path
) -> None:
    """As a killed worker leaves the log when a department signed for a task the worker had
    published but whose state it had not saved: the sign-for is in ``matters.commands``,
    the matter's Accept behind thousands of intake records. Without the gate the worker
    reads the one command first and refuses it (unknown matter)."""
    s = with_city(settings, dept_city(tmp_path))
    topics = prepare_topics(s)
    matter, backlog = behind_a_backlog(s)
    publish(s, topics.intake, [intake_record(m) for m in [*backlog, matter]])
    department = Actor(user_id="z1", role="department", scope_kind="department", scope_code="ZJJ")
    sign = SignFor(
        matter_id=matter.matter_id, actor=department, at=datetime.now(UTC), command_id="c1"
    )
    publish(s, topics.commands, [cmd_record(sign)])

    log = f"streams-test-{s.topic_prefix.strip('.')}"
    try:
        with worker(s, tmp_path / "faust", GRIDHUB_STREAMS_BATCH_SIZE="500"):

            def answered(evs: list[CloudEvent]) -> bool:
                return any(
                    e.subject == matter.matter_id and e.data["type"] in ("signed_for", "rejected")
                    for e in evs
                )

            events = await collect(s, topics.events, answered, within=120, settle=1.0)
            tail = worker_log_tail(log)
    finally:
        drop_topics(s)
    mine = [e.data["type"] for e in events if e.subject == matter.matter_id]
    assert "rejected" not in mine, f"the sign-for met the matter before its Accept\n{tail}"
    assert mine.index("accepted") < mine.index("signed_for"), mine

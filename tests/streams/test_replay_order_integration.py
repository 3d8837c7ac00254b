"""A matter's commands are applied after its Accept, whatever order the worker fetches its
two input topics in when it (re)starts.

What it guards: after a worker is killed, its replacement reads ``matters.intake`` and
``matters.commands`` from their committed offsets. Commands about a matter whose Accept is
still in the uncommitted part of intake can already be on ``matters.commands``: the dead
worker's department tasks, projections and deadline timers (the ticks its replacement's
firer sends at once) were out before its state was saved. If such a command is applied
before the Accept, it meets an unknown matter and is lost; a rebuild from Kafka applies
it after the Accept, so the live projections and the rebuild differ (a fresh-clone CI run
of ``tests/reliability/test_kill_worker.py`` caught a resolve warning fired 175 ms late).

The test lays out exactly that log before the worker starts: thousands of intake records,
then the matter's Accept, on one partition, and a deadline tick for it on the same
partition of the commands topic. The tick must fire the warning, at the tick's time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka.partitioner import murmur2
from kafka import KafkaProducer

from gridhub.cloudevents import CloudEvent
from gridhub.commands_topic import ticks_record
from gridhub.domain.sla import warning_id
from gridhub.intake import IntakeMatter
from gridhub.settings import Settings
from tests.streams.support import (
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


def partition_of(key: str, partitions: int) -> int:
    """The partition a keyed record lands on (the producers' murmur2 default)."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


async def test_a_command_waits_for_its_matters_accept_in_the_intake_backlog(
    settings: Settings, tmp_path: Path
) -> None:
    s = with_city(settings, dept_city(tmp_path))
    topics = prepare_topics(s)
    parts = s.topic_partitions
    matter = intake_matter("TEST-DEPT")
    p = partition_of(matter.matter_id, parts)
    backlog: list[IntakeMatter] = []
    while len(backlog) < BACKLOG:
        other = intake_matter("TEST-DEPT")
        if partition_of(other.matter_id, parts) == p:
            backlog.append(other)
    records = [intake_record(m) for m in [*backlog, matter]]
    assert records[-1].key == matter.matter_id.encode()  # what partition_of hashes
    publish(s, topics.intake, records)
    wid = warning_id(matter.matter_id, "sign_for", 1, "yellow")  # due in 2 hours
    at = datetime.now(UTC).replace(microsecond=0)
    tick = ticks_record([wid], at)
    producer = KafkaProducer(bootstrap_servers=s.kafka_bootstrap, acks="all")
    try:
        producer.send(topics.commands, value=tick.value, headers=tick.headers, partition=p)
        producer.flush(30)
    finally:
        producer.close()

    log = f"streams-test-{s.topic_prefix.strip('.')}"  # the name worker() logs under
    try:
        with worker(s, tmp_path / "faust", GRIDHUB_STREAMS_BATCH_SIZE="500"):

            def fired(evs: list[CloudEvent]) -> bool:
                return any(e.id == wid for e in evs)

            alerts = await collect(s, topics.alerts, fired, within=120)
            events = await collect(
                s, topics.events, lambda evs: any(e.subject == matter.matter_id for e in evs)
            )
            tail = worker_log_tail(log)
    finally:
        drop_topics(s)
    assert any(e.subject == matter.matter_id for e in events), "the Accept was never applied"
    warned = [a for a in alerts if a.id == wid]
    assert warned, f"the tick for {wid} was applied before the matter's Accept:\n{tail}"
    assert {datetime.fromisoformat(a.data["fired_at"]) for a in warned} == {at}

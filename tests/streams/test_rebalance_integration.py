"""A second worker joining the group mid-way, and later leaving it, moves partitions (and
with them their deadline index and their matters' table rows) from one worker to the other
and back: every matter still reaches its department and every warning fires, and is
projected, exactly once.

The deadline index is one Redis sorted set per partition, claimed by whichever worker owns
the partition at that moment (:mod:`streams.deadlines`); warnings claimed by a worker that
loses the partition before it acks them are claimed again when their lease runs out, and
the new owner's domain state (restored from the changelog) drops any duplicate tick.

Under load this test caught Faust skipping input records around a rebalance and committing
past them (:mod:`streams.delivery`); run it with a CPU hog (``yes > /dev/null``) to give
those races room.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiokafka.admin import AIOKafkaAdminClient

from gridhub.cloudevents import CloudEvent
from gridhub.settings import Settings
from streams.app import app_id
from streams.progress import input_progress
from tests.streams.support import (
    assert_each_warning_once,
    collect,
    dept_city,
    drop_topics,
    intake_matter,
    intake_record,
    prepare_topics,
    publish,
    start_worker,
    stop_worker,
    wait_for,
    worker_log_tail,
)

pytestmark = pytest.mark.integration

N = 300
FAST = {"sign_for": "4s", "resolve": "8s", "report_in": "4s"}


async def members_are(s: Settings, count: int) -> bool:
    """Whether the worker group is stable with ``count`` members (partitions then split)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=s.kafka_bootstrap)
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([app_id(s)])
    finally:
        await admin.close()
    (group,) = response.groups
    state, members = group[2], group[5]
    return bool(state == "Stable" and len(members) == count)


async def test_workers_joining_and_leaving_fire_each_warning_once(
    settings: Settings, tmp_path: Path, redis_client: aioredis.Redis
) -> None:
    s = settings.model_copy(update={"city_file": dept_city(tmp_path, FAST)})
    topics = prepare_topics(s)
    log = f"streams-test-rebalance-{s.topic_prefix.strip('.')}"
    matters = [intake_matter("TEST-DEPT", urgency="urgent") for _ in range(N)]
    ids = {m.matter_id for m in matters}
    first = start_worker(s, tmp_path / "a", log, GRIDHUB_STREAMS_BATCH_SIZE="50")
    second = None
    try:
        publish(s, topics.intake, [intake_record(m) for m in matters[: N // 2]])
        await collect(s, topics.department("ZJJ"), lambda evs: len(evs) >= N // 4)
        # joins while the first half's warnings fall due: half the partitions move to it
        second = start_worker(s, tmp_path / "b", log, GRIDHUB_STREAMS_BATCH_SIZE="50")
        assert await wait_for(lambda: members_are(s, 2), within=30, every=0.5), worker_log_tail(log)
        publish(s, topics.intake, [intake_record(m) for m in matters[N // 2 :]])
        await asyncio.sleep(4.0)
        stop_worker(second)  # leaves (gracefully) while the second half's warnings fire
        second = None
        assert await wait_for(lambda: members_are(s, 1), within=30, every=0.5), worker_log_tail(log)

        def reached(evs: list[CloudEvent]) -> bool:
            return {e.subject for e in evs} >= ids

        tasks = await collect(s, topics.department("ZJJ"), reached, within=120)
        missing = ids - {e.subject for e in tasks}
        assert not missing, (
            f"{len(missing)} of {N} matters never reached their department; "
            f"{await input_progress(s)}; worker log tail:\n{worker_log_tail(log)}"
        )
        await assert_each_warning_once(s, redis_client, ids, log)
    finally:
        if second is not None:
            stop_worker(second)
        stop_worker(first)
        drop_topics(s)

"""Killing the worker (SIGKILL) mid-way and restarting it loses no matter and duplicates no
alert: every intake matter reaches its department topic, every alert id is published for
the right matters, and the Redis projections (warnings, KPI counters, timelines) hold each
thing exactly once.

Delivery on Kafka is at-least-once with deterministic CloudEvent ids (see streams/app.py):
a record re-sent after the kill carries the same ``ce_id``, so the assertions on topics are
made on distinct ids; the projections are asserted exactly (no de-duplication needed).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from gridhub.cloudevents import CloudEvent
from gridhub.settings import Settings
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
    with_city,
    worker_log_tail,
)

pytestmark = pytest.mark.integration

N = 400
FAST = {"sign_for": "3s", "resolve": "6s", "report_in": "3s"}


async def test_kill_and_restart_loses_nothing_and_duplicates_no_alert(
    settings: Settings, tmp_path: Path, redis_client: aioredis.Redis
) -> None:
    s = with_city(settings, dept_city(tmp_path, FAST))
    topics = prepare_topics(s)
    log = f"streams-test-kill-{s.topic_prefix.strip('.')}"
    matters = [intake_matter("TEST-DEPT", urgency="urgent") for _ in range(N)]
    ids = {m.matter_id for m in matters}
    proc = start_worker(s, tmp_path / "faust", log, GRIDHUB_STREAMS_BATCH_SIZE="50")
    try:
        publish(s, topics.intake, [intake_record(m) for m in matters[: N // 2]])
        await collect(s, topics.department("ZJJ"), lambda evs: len(evs) >= N // 4)
        await asyncio.sleep(3.5)  # let yellow/red warnings fire around the kill
        stop_worker(proc, kill=True)
        publish(s, topics.intake, [intake_record(m) for m in matters[N // 2 :]])
        proc = start_worker(s, tmp_path / "faust", log, GRIDHUB_STREAMS_BATCH_SIZE="50")

        def done(evs: list[CloudEvent]) -> bool:
            return {e.subject for e in evs if e.data["version"] == 1} >= ids

        tasks = await collect(s, topics.department("ZJJ"), done, within=120)
        firsts = Counter(e.id for e in tasks if e.data["version"] == 1)
        missing = {f"{i}:1:ZJJ" for i in ids} - set(firsts)  # every matter, by its task id
        if missing:
            events = await collect(s, topics.events, lambda evs: False, within=3)
            processed = {e.subject for e in events} & {m.split(":")[0] for m in missing}
            print(f"input end/committed: {await input_progress(s)}")
            print(f"missing matters with events on {topics.events}: {len(processed)}")
        assert not missing and len(firsts) == N, (
            f"{len(missing)} of {N} matters never reached their department "
            f"(first half: {sum(m.matter_id + ':1:ZJJ' in missing for m in matters[: N // 2])}); "
            f"worker log tail:\n{worker_log_tail(log)}"
        )

        await assert_each_warning_once(s, redis_client, ids, log)
    finally:
        stop_worker(proc)
        drop_topics(s)

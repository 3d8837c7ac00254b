"""A worker batch held up for real (Redis paused under it) is logged, while it waits, with
the stack that shows where (streams/stuck.py); then it completes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from tests.streams.support import (
    dept_city,
    drop_topics,
    intake_matter,
    intake_record,
    prepare_topics,
    publish,
    wait_for,
    with_city,
    worker,
    worker_log_tail,
)

pytestmark = pytest.mark.integration


async def test_a_batch_waiting_on_redis_is_reported_with_its_stack(
    settings: Settings, tmp_path: Path, redis_client: aioredis.Redis
) -> None:
    s = with_city(settings, dept_city(tmp_path))
    topics = prepare_topics(s)
    keys = RedisKeys(s.redis_prefix)
    log = f"streams-test-{s.topic_prefix.strip('.')}"
    first, second = intake_matter("TEST-DEPT"), intake_matter("TEST-DEPT")
    try:
        with worker(s, tmp_path / "faust", GRIDHUB_STREAMS_SLOW_BATCH_SECONDS="1"):
            publish(s, topics.intake, [intake_record(first)])
            # the worker runs and projects (the stacks below come from a batch, not start-up)
            assert await wait_for(
                lambda: redis_client.exists(keys.matter(first.matter_id)), within=60
            )
            await redis_client.execute_command("CLIENT", "PAUSE", "4000", "WRITE")
            publish(s, topics.intake, [intake_record(second)])

            def reported() -> bool:
                return "a batch has run for 1 s" in worker_log_tail(log, 400)

            seen = await wait_for(reported, within=10)
            await asyncio.sleep(4)  # the pause ends; the batch goes on
            projected = await wait_for(
                lambda: redis_client.exists(keys.matter(second.matter_id)), within=20
            )
            tail = worker_log_tail(log, 400)
    finally:
        drop_topics(s)
    assert seen, tail
    report = tail[tail.index("a batch has run for 1 s") :]
    # the batch's own task, and the Redis call it waits in: its projections, or the
    # projection guard it passes first (a fresh-clone run caught it there)
    assert " in run_batch" in report, report
    assert "projections.py" in report or "rebuild.py" in report, report
    assert "producer: unsent batches" in report, report
    assert projected, "the batch never completed after Redis came back"

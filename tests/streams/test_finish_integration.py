"""The stop deadline of a real worker (streams/finish.py ``worker_class``): past
``GRIDHUB_STREAMS_STOP_SECONDS`` a stopping worker exits at once with status 70; within it,
a worker stops cleanly (status 0)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from gridhub.settings import Settings
from streams.finish import UNFINISHED_EXIT
from tests.streams.support import (
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


@pytest.mark.parametrize(
    ("stop_seconds", "status"), [("0.001", UNFINISHED_EXIT), ("60", 0)], ids=["late", "in-time"]
)
async def test_a_stopping_worker_exits_by_its_deadline(
    settings: Settings, tmp_path: Path, stop_seconds: str, status: int
) -> None:
    s = with_city(settings, dept_city(tmp_path))
    topics = prepare_topics(s)
    log = f"streams-test-stop-{s.topic_prefix.strip('.')}"
    proc = start_worker(s, tmp_path / "faust", log, GRIDHUB_STREAMS_STOP_SECONDS=stop_seconds)
    try:
        publish(s, topics.intake, [intake_record(intake_matter("TEST-DEPT"))])
        assert await collect(s, topics.department("ZJJ"), lambda evs: len(evs) >= 1)  # it runs
        os.killpg(proc.pid, signal.SIGTERM)
        returned = proc.wait(timeout=90)
    finally:
        stop_worker(proc)
        drop_topics(s)
    tail = worker_log_tail(log)
    assert returned == status, tail
    assert ("stopping the worker did not end within" in tail) == (status == UNFINISHED_EXIT), tail

"""Running the real stream processor (streams/) for the end-to-end dispatch tests.

``python -m streams worker`` is started as a subprocess with the test's topic and Redis
prefixes and city file. When streams/ is not in the tree yet, the tests that need it skip
with that reason (they are listed in the module docstrings that use this).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gridhub.settings import Settings
from tests.streams.support import free_port, stop_worker

ROOT = Path(__file__).resolve().parents[2]
STREAMS_PRESENT = (ROOT / "streams" / "app.py").exists()
needs_streams = pytest.mark.skipif(
    not STREAMS_PRESENT, reason="streams/ (the stream processor) is not in the tree yet"
)


def log_name(settings: Settings) -> str:
    """The name of the worker's log (for ``tests.streams.support.worker_log_tail``)."""
    return f"streams-test-{settings.topic_prefix.strip('.')}"


@contextmanager
def streams_worker(settings: Settings, port: int = 0) -> Iterator[subprocess.Popen[bytes]]:
    """The stream processor running against the test's topics and keys until the block ends;
    its web port is ``port``, else a free one (a fixed port that happened to be taken made
    the worker exit at start). Its output goes to ``.local/<log_name(settings)>.log``."""
    env = {
        **os.environ,
        "GRIDHUB_TOPIC_PREFIX": settings.topic_prefix,
        "GRIDHUB_REDIS_PREFIX": settings.redis_prefix,
        "GRIDHUB_CITY_FILE": str(settings.city_file),
        "GRIDHUB_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "GRIDHUB_REDIS_URL": str(settings.redis_url),
        "GRIDHUB_STREAMS_PORT": str(port or free_port()),
    }
    log_path = ROOT / ".local" / f"{log_name(settings)}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streams", "worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            stop_worker(proc)  # SIGTERM the process group, SIGKILL if it lingers

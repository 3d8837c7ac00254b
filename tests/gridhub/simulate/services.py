"""The real services for simulator tests, as subprocesses with the test's settings:
intake (``python -m connectors``) and the dispatch API (``python -m dispatch``) here; the
stream worker through ``tests.dispatch.streams_worker`` (the one place that starts it).

    with running_system(settings) as (intake_url, dispatch_url):
        ...
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from gridhub.citydata import load_city
from gridhub.kafka_admin import all_topics, ensure_topics
from gridhub.settings import Settings
from gridhub.topics import Topics
from tests.dispatch.streams_worker import streams_worker
from tests.streams.support import stop_worker
from tests.support.uvicorn_thread import free_port

ROOT = Path(__file__).resolve().parents[3]


def service_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a service process running with ``settings``."""
    return {
        **os.environ,
        "GRIDHUB_TOPIC_PREFIX": settings.topic_prefix,
        "GRIDHUB_REDIS_PREFIX": settings.redis_prefix,
        "GRIDHUB_CITY_FILE": str(settings.city_file),
        "GRIDHUB_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "GRIDHUB_REDIS_URL": str(settings.redis_url),
        "GRIDHUB_INTAKE_PORT": str(settings.intake_port),
        "GRIDHUB_DISPATCH_PORT": str(settings.dispatch_port),
        "GRIDHUB_DISPATCH_WEBHOOKS": "false",
        "GRIDHUB_LOG_LEVEL": "WARNING",
        **extra,
    }


@contextlib.contextmanager
def service(module: str, env: dict[str, str], health: str) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m module`` until the block ends; waits until ``health`` answers 200."""
    log_path = ROOT / ".local" / f"sim-test-{module}-{env['GRIDHUB_TOPIC_PREFIX'].strip('.')}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{module} exited; see {log_path}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(health, timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{module} did not answer {health}; see {log_path}")
                time.sleep(0.2)
            yield proc
        finally:
            stop_worker(proc)  # SIGTERM the process group, SIGKILL if it lingers


@contextlib.contextmanager
def running_system(settings: Settings, intake_rate_limit: int = 1_000_000) -> Iterator[Settings]:
    """Topics, the stream worker, intake and dispatch for ``settings``; yields the settings
    with the services' free ports filled in."""
    settings = settings.model_copy(
        update={"intake_port": free_port(), "dispatch_port": free_port()}
    )
    # streams/ puts its Faust data dir under <tmp>/gridhub-streams/ without creating that
    # parent (reported to its owner); make sure it exists
    (Path(tempfile.gettempdir()) / "gridhub-streams").mkdir(exist_ok=True)
    names = all_topics(Topics.from_settings(settings), load_city(settings.city_file))
    ensure_topics(settings, names)
    env = service_env(settings, GRIDHUB_INTAKE_RATE_LIMIT=str(intake_rate_limit))
    base = "http://127.0.0.1:{}/healthz"
    with (
        streams_worker(settings, port=free_port()),
        service("connectors", env, base.format(settings.intake_port)),
        service("dispatch", env, base.format(settings.dispatch_port)),
    ):
        yield settings

"""Fixtures of the fault tests: a private broker (shared by the tests of a session that need
one), a private Redis per test, settings pointing at both, and the whole system as processes.

Nothing here touches the shared Kafka or Redis: they are used by other tests concurrently.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gridhub.settings import Settings
from tests.streams.support import dept_city
from tests.support.logs import log_warnings
from tests.support.private_kafka import PrivateKafka
from tests.support.private_redis import PrivateRedis
from tests.support.system import System

#: SLA of the test category: yellow at 80 %, red at 100 % of each, within seconds.
FAST_SLA = {"sign_for": "3s", "resolve": "6s", "report_in": "3s"}


@pytest.fixture(scope="session")
def private_kafka() -> Iterator[PrivateKafka]:
    """One private broker for the fault tests of this session (not for the outage test)."""
    with PrivateKafka() as kafka:
        yield kafka


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A private redis-server for one test (AOF on; stop, start and wipe at will)."""
    with PrivateRedis() as redis:
        yield redis


def private_settings(
    settings: Settings, kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> Settings:
    """The test's settings on a private broker and Redis, with the fast department city."""
    return settings.model_copy(
        update={
            "kafka_bootstrap": kafka_bootstrap,
            "redis_url": redis_url,
            "city_file": dept_city(tmp_path, FAST_SLA),
            "topic_partitions": 2,
        }
    )


@pytest.fixture
def rsettings(
    settings: Settings, private_kafka: PrivateKafka, private_redis: PrivateRedis, tmp_path: Path
) -> Settings:
    """Settings on the session's private broker and this test's private Redis."""
    return private_settings(settings, private_kafka.bootstrap, private_redis.url, tmp_path)


@pytest.fixture
def system(rsettings: Settings, tmp_path: Path) -> Iterator[System]:
    """The system's processes for ``rsettings`` (started by the test; stopped afterwards)."""
    with System(rsettings, tmp_path / "system") as running:
        yield running
    # shown only when the test failed (captured output): the worker's warnings, among them
    # re-reads, stalls and where a batch that ran too long waited
    if running.log("streams").exists():
        print(log_warnings(running.log_text("streams")))

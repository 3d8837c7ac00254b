"""Test tiers and fixtures.

Pure tests need nothing. Integration tests (marked ``integration``) get the real Kafka broker
and Redis server, started by the project's own scripts if they are not answering yet, and a
``settings`` object with a unique topic prefix and Redis key prefix, so tests never see each
other's data.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from gridhub.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
FAST_CITY = ROOT / "tests" / "data" / "city_fast.json"


@pytest.fixture(scope="session")
def infra() -> Settings:
    """Base settings for the session, with Kafka and Redis up (started via scripts/ if needed)."""
    for script in ("kafka.sh", "redis.sh"):
        status = subprocess.run([ROOT / "scripts" / script, "status"], capture_output=True)
        if status.returncode != 0:
            subprocess.run([ROOT / "scripts" / script, "up"], check=True)
    return load_settings()


@pytest.fixture
def unique() -> str:
    """A short unique token for names of topics, groups and keys in one test."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def settings(infra: Settings, unique: str) -> Settings:
    """Settings of one integration test: its own topics, Redis keys and the small test city."""
    return infra.model_copy(
        update={
            "topic_prefix": f"t{unique}.",
            "redis_prefix": f"t{unique}:",
            "city_file": FAST_CITY,
        }
    )


@pytest.fixture
async def redis_client(settings: Settings) -> AsyncIterator[aioredis.Redis]:
    """A real Redis client; the test's keys are deleted afterwards."""
    client = aioredis.from_url(str(settings.redis_url))
    yield client
    async for key in client.scan_iter(match=f"{settings.redis_prefix}*", count=1000):
        await client.delete(key)
    await client.aclose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run tests marked ``faults`` (they stop and start processes) after all the others."""
    items.sort(key=lambda item: item.get_closest_marker("faults") is not None)

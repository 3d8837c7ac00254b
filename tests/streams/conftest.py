"""Fixtures of the streams/ tests: the test city with a department-tier category, and a
producer configured as the worker's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from gridhub.domain.context import Context
from gridhub.settings import Settings, load_settings
from gridhub.topics import Topics
from streams.context import build_context
from streams.processor import Processor
from tests.streams.support import dept_city


@pytest.fixture
def city_file(tmp_path: Path) -> Path:
    """A city file: the fast test city plus TEST-DEPT (department tier, ZJJ + GAJ)."""
    return dept_city(tmp_path)


@pytest.fixture
def ctx(city_file: Path) -> Context:
    """The domain context of the test city."""
    return build_context(load_settings(city_file=city_file))


@pytest.fixture
def topics() -> Topics:
    """Topic names with a fixed prefix (no Kafka involved)."""
    return Topics("u.")


@pytest.fixture
def processor(ctx: Context, topics: Topics) -> Processor:
    """The pure batch processor."""
    return Processor(ctx, topics)


@pytest.fixture
async def producer(settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    """A started producer configured as the worker's (acks from every in-sync replica)."""
    found = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await found.start()
    try:
        yield found
    finally:
        await found.stop()

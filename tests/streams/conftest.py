"""Fixtures of the streams/ tests: the test city with a department-tier category."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridhub.domain.context import Context
from gridhub.settings import load_settings
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

"""Fixtures of the connector tests: the test's topics, an intake API key, and the intake app
running in-process (ASGI) with its lifespan, plus readers of what reached Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI

from connectors.app import create_app
from connectors.config import IntakeConfig
from gridhub.auth import issue_token
from gridhub.citydata import load_city
from gridhub.cloudevents import decode
from gridhub.kafka_admin import delete_topics_with_prefix, ensure_topics
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics
from tests.support.kafka_topics import read_all, total_end_offset


@pytest.fixture
def topics(settings: Settings) -> Iterator[Topics]:
    """The test's own core topics, created before and deleted after."""
    names = Topics.from_settings(settings)
    ensure_topics(settings, names.core())
    yield names
    delete_topics_with_prefix(settings, settings.topic_prefix)


@pytest.fixture
def intake_config() -> IntakeConfig:
    """Intake limits of a test; override the fixture to change them."""
    return IntakeConfig(rate_limit=10_000, kafka_timeout_ms=4000)


@pytest.fixture
async def api_key(settings: Settings, redis_client: aioredis.Redis) -> str:
    """A fresh intake API key (role "intake")."""
    raw, _ = await issue_token(
        redis_client,
        RedisKeys(settings.redis_prefix),
        load_city(settings.city_file),
        user="test-connector",
        role="intake",
    )
    return raw


@pytest.fixture
async def app(
    settings: Settings, topics: Topics, intake_config: IntakeConfig, redis_client: aioredis.Redis
) -> AsyncIterator[FastAPI]:
    """The intake app with its lifespan running."""
    application = create_app(settings, intake_config)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI, api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the in-process app, sending the API key."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://intake", headers={"X-Api-Key": api_key}, timeout=30
    ) as http:
        yield http


def intake_records(settings: Settings, min_count: int = 0) -> list[Any]:
    """Every record on the test's matters.intake, decoded: (record, CloudEvent) pairs."""
    topic = Topics.from_settings(settings).intake
    return [(r, decode(r.value, r.headers)) for r in read_all(settings, topic, min_count)]


def intake_count(settings: Settings) -> int:
    """How many records the test's matters.intake holds."""
    return total_end_offset(settings, Topics.from_settings(settings).intake)


def headers_of(record: Any) -> dict[str, str]:
    """A Kafka record's headers as a str dict."""
    return {k: v.decode() for k, v in record.headers}


def body_of(response: httpx.Response) -> Any:
    """A response body as JSON."""
    return orjson.loads(response.content)

"""Fixtures of the dispatch tests: the test's topics, the API in-process (ASGI, lifespan
running against the real Kafka and Redis), tokens for every role, and an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI

from dispatch.app import create_app
from gridhub.auth import issue_token
from gridhub.citydata import load_city
from gridhub.domain.hierarchy import City
from gridhub.kafka_admin import all_topics, delete_topics_with_prefix, ensure_topics
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics

#: name → (role, scope code): "in" principals are in scope of the seeded matters (grid
#: T01-V001-G001, department ZJJ), "out" principals are not.
PRINCIPALS: dict[str, tuple[str, str]] = {
    "operator": ("city_operator", ""),
    "supervisor": ("supervisor", ""),
    "leader": ("leader", ""),
    "auditor": ("auditor", ""),
    "township": ("township_hub", "T01"),
    "township_out": ("township_hub", "T02"),
    "village": ("village_hub", "T01-V001"),
    "village_out": ("village_hub", "T02-V001"),
    "dept": ("department", "ZJJ"),
    "dept_out": ("department", "GAJ"),
    "worker": ("grid_worker", "T01-V001-G001"),
    "worker_out": ("grid_worker", "T02-V001-G001"),
    "intake": ("intake", ""),
}


@pytest.fixture
def city(settings: Settings) -> City:
    return load_city(settings.city_file)


@pytest.fixture
def keys(settings: Settings) -> RedisKeys:
    return RedisKeys(settings.redis_prefix)


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    """The test's settings for the API: a short command wait, no webhook deliverer."""
    return settings.model_copy(update={"command_wait_seconds": 0.3, "dispatch_webhooks": False})


@pytest.fixture
def topics(settings: Settings, city: City) -> Iterator[Topics]:
    """The test's topics (core and department queues), created before and deleted after."""
    names = Topics.from_settings(settings)
    ensure_topics(settings, all_topics(names, city), partitions=2)
    yield names
    delete_topics_with_prefix(settings, settings.topic_prefix)


@pytest.fixture
async def app(
    api_settings: Settings, topics: Topics, redis_client: aioredis.Redis
) -> AsyncIterator[FastAPI]:
    """The dispatch app with its lifespan running."""
    application = create_app(api_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def tokens(settings: Settings, redis_client: aioredis.Redis, city: City) -> dict[str, str]:
    """A raw bearer token per name in :data:`PRINCIPALS`."""
    out = {}
    keys = RedisKeys(settings.redis_prefix)
    for name, (role, scope) in PRINCIPALS.items():
        raw, _ = await issue_token(
            redis_client, keys, city, user=f"u-{name}", role=role, scope_code=scope
        )
        out[name] = raw
    return out


Call = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dispatch", timeout=30) as c:
        yield c


@pytest.fixture
def call(client: httpx.AsyncClient, tokens: dict[str, str]) -> Call:
    """``await call("dept", "GET", "/v1/...", json=...)``: a request as a named principal."""

    async def run(who: str | None, method: str, url: str, **kwargs: object) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})  # type: ignore[call-overload]
        if who:
            headers["Authorization"] = f"Bearer {tokens[who]}"
        return await client.request(method, url, headers=headers, **kwargs)  # type: ignore[arg-type]

    return run

"""Schemathesis against the OpenAPI document: no request, however odd, gets a 5xx.

The app runs in-process over ASGI (schemathesis drives its lifespan) against the real Kafka
and Redis, with a city operator's token so requests get past authentication, and a few
seeded matters. Examples are bounded so the run stays well under a minute.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis.asyncio as aioredis
import schemathesis
from schemathesis.schemas import BaseSchema

from dispatch.app import create_app
from gridhub.auth import issue_token
from gridhub.citydata import load_city
from gridhub.kafka_admin import all_topics, delete_topics_with_prefix, ensure_topics
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics
from tests.dispatch.seed import make_view, put_view
from tests.support.fuzz import fuzz_all_operations

pytestmark = pytest.mark.integration
TOKEN: dict[str, str] = {}
EXAMPLES = 8


async def _prepare(settings: Settings) -> str:
    redis = aioredis.from_url(str(settings.redis_url))
    keys = RedisKeys(settings.redis_prefix)
    try:
        await put_view(redis, keys, make_view("M1", state="signed_for"))
        await put_view(redis, keys, make_view("M2", state="resolved"))
        raw, _ = await issue_token(
            redis, keys, load_city(settings.city_file), user="fuzz", role="city_operator"
        )
        return raw
    finally:
        await redis.aclose()


async def _cleanup(settings: Settings) -> None:
    redis = aioredis.from_url(str(settings.redis_url))
    async for key in redis.scan_iter(match=f"{settings.redis_prefix}*", count=1000):
        await redis.delete(key)
    await redis.aclose()


def _in_thread(coro_fn, *args):
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coro_fn(*args))).result()


@pytest.fixture
def api_schema(settings: Settings) -> Iterator[BaseSchema]:
    s = settings.model_copy(update={"command_wait_seconds": 0, "dispatch_webhooks": False})
    ensure_topics(s, all_topics(Topics.from_settings(s), load_city(s.city_file)), partitions=1)
    TOKEN["raw"] = _in_thread(_prepare, s)
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app(s))
    _in_thread(_cleanup, s)
    delete_topics_with_prefix(s, s.topic_prefix)


def test_no_server_errors(api_schema: BaseSchema) -> None:
    """Positive and negative examples of every operation; any 5xx fails the test.

    (Driven through schemathesis' Python API: its lazy pytest fixture loader does not work
    with pytest 9's nodes.)"""
    headers = {"Authorization": f"Bearer {TOKEN['raw']}"}
    operations, failures = fuzz_all_operations(api_schema, headers, EXAMPLES, detail=400)
    assert operations >= 38
    assert not failures, "\n".join(failures)

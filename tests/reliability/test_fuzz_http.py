"""Hostile HTTP input: no request, however odd, gets a 5xx.

* Intake (connectors/): schemathesis drives every operation of its OpenAPI document (the
  request bodies are documented from the channel models), positive and negative examples,
  with a valid intake key, in-process over ASGI against the real Kafka and Redis.
* Dispatch: the same, in tests/dispatch/test_openapi_fuzz.py (not repeated here).
* Wallboard gateway: hypothesis generates paths, query strings and methods against a real
  gateway; nothing 5xx, and it still serves its health check and page afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import redis.asyncio as aioredis
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from schemathesis.schemas import BaseSchema

from connectors.app import create_app
from connectors.config import IntakeConfig
from gridhub.auth import issue_token
from gridhub.citydata import load_city
from gridhub.kafka_admin import delete_topics_with_prefix, ensure_topics
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics
from tests.support.fuzz import fuzz_all_operations
from wallboard.app import Gateway

pytestmark = pytest.mark.integration
EXAMPLES = 10
KEY: dict[str, str] = {}


def _in_thread(coro_fn: Any, *args: Any) -> Any:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coro_fn(*args))).result()


async def _token(settings: Settings) -> str:
    redis = aioredis.from_url(str(settings.redis_url))
    try:
        raw, _ = await issue_token(
            redis, RedisKeys(settings.redis_prefix), load_city(settings.city_file),
            user="fuzz", role="intake",
        )  # fmt: skip
        return raw
    finally:
        await redis.aclose()


async def _cleanup(settings: Settings) -> None:
    redis = aioredis.from_url(str(settings.redis_url))
    async for key in redis.scan_iter(match=f"{settings.redis_prefix}*", count=1000):
        await redis.delete(key)
    await redis.aclose()


@pytest.fixture
def intake_schema(settings: Settings) -> Iterator[BaseSchema]:
    """The intake app's OpenAPI schema bound to the in-process app."""
    ensure_topics(settings, Topics.from_settings(settings).core(), partitions=1)
    KEY["raw"] = _in_thread(_token, settings)
    app = create_app(settings, IntakeConfig(rate_limit=100_000, kafka_timeout_ms=3000))
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    _in_thread(_cleanup, settings)
    delete_topics_with_prefix(settings, settings.topic_prefix)


def test_intake_never_5xx(intake_schema: BaseSchema) -> None:
    """Every intake operation, positive and negative examples, with a valid key."""
    headers = {"X-Api-Key": KEY["raw"]}
    operations, failures = fuzz_all_operations(intake_schema, headers, EXAMPLES)
    assert operations >= 12
    assert not failures, "\n".join(failures)


SEGMENT = st.one_of(
    st.text(min_size=0, max_size=40),
    st.sampled_from(
        ["..", ".", "%2e%2e", "%00", "ws", "healthz", "metrics", "static", "index.html",
         "app.js", "..%2f..%2fetc%2fpasswd", "%c0%ae%c0%ae", "a" * 3000, "\u202e", "😀"]
    ),
)  # fmt: skip
QUERY = st.lists(st.tuples(st.text(max_size=30), st.text(max_size=60)), max_size=6)


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
async def test_gateway_http_never_5xx(settings: Settings) -> None:
    """Random paths, query strings and methods against a real gateway process object."""
    s = settings.model_copy(update={"dispatch_url": "http://127.0.0.1:9"})
    topics = Topics.from_settings(s)
    ensure_topics(s, [topics.wallboard, topics.alerts], partitions=1)
    gateway = Gateway(s, load_city(s.city_file), port=0)
    await gateway.start()
    seen: list[int] = []
    try:
        base = f"http://127.0.0.1:{gateway.port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:

            @given(
                segments=st.lists(SEGMENT, min_size=0, max_size=5),
                query=QUERY,
                method=st.sampled_from(["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE"]),
            )
            @hsettings(
                max_examples=150,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def probe(segments: list[str], query: list[tuple[str, str]], method: str) -> None:
                path = "/" + "/".join(quote(x, safe="%.") for x in segments)
                qs = "&".join(f"{quote(k)}={quote(v)}" for k, v in query)
                url = path + ("?" + qs if qs else "")
                status = asyncio.run_coroutine_threadsafe(_status(http, method, url), loop).result(
                    20
                )
                seen.append(status)
                assert status < 500 or status == 0, (method, url, status)

            loop = asyncio.get_running_loop()
            await asyncio.to_thread(probe)
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/")).status_code == 200
    finally:
        await gateway.stop()
        delete_topics_with_prefix(s, s.topic_prefix)
    assert len(seen) >= 100


async def _status(http: httpx.AsyncClient, method: str, url: str) -> int:
    """The status of one request; 0 when the server closed the connection (a refusal of a
    malformed request line, not a crash)."""
    try:
        return (await http.request(method, url)).status_code
    except (httpx.RemoteProtocolError, httpx.ReadError):
        return 0

"""Authentication: bearer tokens from gridhub.auth, 401 with WWW-Authenticate, role gates."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from gridhub.auth import revoke_token, verify_token
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.token_log import TokenLog
from tests.dispatch.conftest import Call
from tests.dispatch.seed import make_view, put_view

pytestmark = pytest.mark.integration


async def test_missing_and_bad_tokens_are_401_with_challenge(call: Call) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        r = await call(None, "GET", "/v1/matters/M1", headers=headers)
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert r.json()["error"]["code"] == "unauthorized"


async def test_revoked_token_is_refused(
    call: Call,
    tokens: dict[str, str],
    redis_client: aioredis.Redis,
    keys: RedisKeys,
    settings: Settings,
) -> None:
    await put_view(redis_client, keys, make_view("M1"))
    assert (await call("operator", "GET", "/v1/matters/M1")).status_code == 200
    principal = await verify_token(redis_client, keys, tokens["operator"])
    assert principal is not None
    async with TokenLog(settings) as log:
        assert not await revoke_token(redis_client, keys, principal.token_id[:6], log=log)
        assert await revoke_token(redis_client, keys, principal.token_id, log=log)
    assert (await call("operator", "GET", "/v1/matters/M1")).status_code == 401


async def test_intake_tokens_cannot_use_dispatch(
    call: Call, redis_client: aioredis.Redis, keys: RedisKeys
) -> None:
    await put_view(redis_client, keys, make_view("M1"))
    r = await call("intake", "GET", "/v1/matters/M1")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"


async def test_docs_and_openapi_are_served(call: Call) -> None:
    r = await call(None, "GET", "/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "/v1/matters/{matter_id}/timeline" in doc["paths"]
    assert (await call(None, "GET", "/docs")).status_code == 200

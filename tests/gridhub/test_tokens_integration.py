"""Tokens survive Redis losing its data: Kafka (a compacted topic keyed by the token's hash)
is their durable record, and a restore puts every live token back into Redis, with its
expiry, while revoked and expired ones stay gone. Real Kafka and Redis; "Redis lost its
data" is every key of the test's prefix deleted (the shared server is never flushed)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import orjson
import pytest
import redis.asyncio as aioredis
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType

from gridhub.auth import (
    StoreNotReady,
    hash_token,
    issue_token,
    list_tokens,
    revoke_token,
    verify_token,
)
from gridhub.citydata import load_city
from gridhub.cloudevents import decode
from gridhub.kafka_admin import delete_topics_with_prefix, ensure_topics
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.token_log import TokenLog, restore_tokens, token_record
from gridhub.topics import Topics
from tests.conftest import ROOT
from tests.support.kafka_topics import read_all

pytestmark = pytest.mark.integration


@pytest.fixture
def topics(settings: Settings) -> Iterator[Topics]:
    names = Topics.from_settings(settings)
    ensure_topics(settings, names.core(), partitions=2)
    yield names
    delete_topics_with_prefix(settings, settings.topic_prefix)


async def wipe(redis: aioredis.Redis, settings: Settings) -> None:
    """Everything of this test's prefix gone from Redis, as after a restart without data."""
    doomed = [k async for k in redis.scan_iter(match=f"{settings.redis_prefix}*", count=1000)]
    if doomed:
        await redis.delete(*doomed)


async def test_tokens_come_back_after_a_wipe_and_revoked_ones_do_not(
    settings: Settings, topics: Topics, redis_client: aioredis.Redis
) -> None:
    keys, city = RedisKeys(settings.redis_prefix), load_city(settings.city_file)
    async with TokenLog(settings) as log:

        async def issue(user: str, role: str, scope: str = "", ttl: int | None = None) -> str:
            raw, _ = await issue_token(
                redis_client,
                keys,
                city,
                user=user,
                role=role,
                scope_code=scope,
                ttl_seconds=ttl,
                log=log,
            )
            return raw

        forever = await issue("op", "city_operator")
        hour = await issue("zjj", "department", "ZJJ", ttl=3600)
        brief = await issue("brief", "leader", ttl=1)
        revoked = await issue("gone", "supervisor")
        lost = await issue("lost", "auditor")
        before = {t: await verify_token(redis_client, keys, t) for t in (forever, hour, revoked)}
        to_revoke = before[revoked]
        assert all(before.values()) and to_revoke is not None
        assert await revoke_token(redis_client, keys, to_revoke.token_id, log=log)
        assert await verify_token(redis_client, keys, revoked) is None

        await wipe(redis_client, settings)
        # Redis lost every token: "try again" (503 upstream), never "unknown token" (401)
        with pytest.raises(StoreNotReady):
            await verify_token(redis_client, keys, forever)
        lost_id = hash_token(lost)[:12]  # revoked while Redis does not know it: found in Kafka
        assert await revoke_token(redis_client, keys, lost_id, log=log)
        assert not await revoke_token(redis_client, keys, "000000000000", log=log)
    await asyncio.sleep(1.2)  # the ttl=1 token has expired

    restored = await restore_tokens(settings, redis_client, keys)
    assert (restored.live, restored.refused) == (2, 0)
    assert await verify_token(redis_client, keys, forever) == before[forever]
    assert await verify_token(redis_client, keys, "ghk_" + "x" * 32) is None  # unknown: 401
    assert await verify_token(redis_client, keys, hour) == before[hour]
    for gone in (revoked, lost, brief):
        assert await verify_token(redis_client, keys, gone) is None
        assert not await redis_client.exists(keys.token(hash_token(gone)))
    # the expiry is kept: the same expires_at, and Redis drops the key when it comes
    hour_principal = before[hour]
    assert hour_principal is not None and hour_principal.expires_at is not None
    left_ms = await redis_client.pttl(keys.token(hash_token(hour)))
    expected_ms = (hour_principal.expires_at - time.time()) * 1000
    assert abs(left_ms - expected_ms) < 5000, (left_ms, expected_ms)
    assert await redis_client.ttl(keys.token(hash_token(forever))) == -1
    listed = {p.user for p in await list_tokens(redis_client, keys)}
    assert listed == {"op", "zjj"}

    # Kafka holds hashes only: no raw token in any key, value or header of the record
    records = await asyncio.to_thread(read_all, settings, topics.tokens, 7)
    assert {r.key.decode() for r in records} == {
        hash_token(t) for t in (forever, hour, brief, revoked, lost)
    }
    for r in records:
        blob = (r.value or b"") + b"".join(v for _, v in r.headers)
        assert not any(t.encode() in blob for t in (forever, hour, brief, revoked, lost))
    assert sum(1 for r in records if r.value is None) == 2  # the two revocations


def test_the_token_topic_is_compacted(settings: Settings, topics: Topics) -> None:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        resource = ConfigResource(ConfigResourceType.TOPIC, topics.tokens)
        described = admin.describe_configs([resource])
    finally:
        admin.close()
    entries = described["topic"][topics.tokens]  # kafka-python 3: {kind: {name: {config}}}
    assert entries["cleanup.policy"]["value"] == "compact"


async def test_a_poison_token_record_is_dead_lettered_and_the_rest_restored(
    settings: Settings, topics: Topics, redis_client: aioredis.Redis
) -> None:
    keys, city = RedisKeys(settings.redis_prefix), load_city(settings.city_file)
    async with TokenLog(settings) as log:
        good, principal = await issue_token(
            redis_client, keys, city, user="ok", role="leader", log=log
        )
    forged = token_record(principal)
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    try:
        producer.send(topics.tokens, key=b"not-a-hash", value=forged.value, headers=forged.headers)
        producer.send(topics.tokens, key=b"a" * 64, value=forged.value, headers=forged.headers)
        producer.send(topics.tokens, key=b"b" * 64, value=b"\xff not json", headers=[])
        producer.flush(10)
    finally:
        producer.close()
    await wipe(redis_client, settings)

    restored = await restore_tokens(settings, redis_client, keys)
    assert (restored.live, restored.refused) == (1, 3)
    assert await verify_token(redis_client, keys, good) == principal
    assert not await redis_client.exists(keys.token("a" * 64))
    dead = [decode(r.value, r.headers) for r in read_all(settings, topics.dead_letter, 3)]
    reasons = sorted(d.data["reason"] for d in dead)
    assert len(dead) == 3 and all(d.data["topic"] == topics.tokens for d in dead)
    assert any("not a SHA-256" in r for r in reasons), reasons
    assert any("is not the start of its hash" in r for r in reasons), reasons
    assert any("ce_specversion" in r for r in reasons), reasons


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """``gridhub ARGS`` against the test's Kafka topics and Redis keys."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GRIDHUB_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "GRIDHUB_REDIS_URL": str(settings.redis_url),
        "GRIDHUB_TOPIC_PREFIX": settings.topic_prefix,
        "GRIDHUB_REDIS_PREFIX": settings.redis_prefix,
        "GRIDHUB_CITY_FILE": str(settings.city_file),
    }
    return subprocess.run(
        [sys.executable, "-c", "from gridhub.cli import main; main()", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_cli_issue_list_revoke_and_rebuild_restore(
    settings: Settings, topics: Topics, redis_client: aioredis.Redis
) -> None:
    keys = RedisKeys(settings.redis_prefix)
    issued = await asyncio.to_thread(
        cli,
        settings,
        "token",
        "issue",
        "--user",
        "chief",
        "--role",
        "township_hub",
        "--scope",
        "T01",
    )
    assert issued.returncode == 0, issued.stdout + issued.stderr
    raw = issued.stdout.strip().splitlines()[-1]
    kept = await asyncio.to_thread(
        cli, settings, "token", "issue", "--user", "kept", "--role", "leader", "--ttl", "600"
    )
    kept_raw = kept.stdout.strip().splitlines()[-1]
    bad = await asyncio.to_thread(cli, settings, "token", "issue", "--user", "x", "--role", "king")
    assert bad.returncode == 2 and "unknown role" in bad.stdout
    principal = await verify_token(redis_client, keys, raw)
    assert principal is not None and principal.scope_code == "T01"
    listed = await asyncio.to_thread(cli, settings, "token", "list")
    assert principal.token_id in listed.stdout and "chief" in listed.stdout

    await wipe(redis_client, settings)
    rebuilt = await asyncio.to_thread(cli, settings, "rebuild", "--here")
    assert rebuilt.returncode == 0 and "2 tokens" in rebuilt.stdout, rebuilt.stdout + rebuilt.stderr
    assert await verify_token(redis_client, keys, raw) == principal
    marker = orjson.loads(
        await redis_client.get(f"{settings.redis_prefix}streams:projected") or b"{}"
    )
    assert marker.get("tokens") == 2

    revoked = await asyncio.to_thread(cli, settings, "token", "revoke", principal.token_id)
    assert revoked.returncode == 0, revoked.stdout + revoked.stderr
    again = await asyncio.to_thread(cli, settings, "token", "revoke", principal.token_id)
    assert again.returncode == 1 and "no token" in again.stdout
    await wipe(redis_client, settings)
    rebuilt = await asyncio.to_thread(cli, settings, "rebuild", "--here")
    assert rebuilt.returncode == 0 and "1 tokens" in rebuilt.stdout, rebuilt.stdout + rebuilt.stderr
    assert await verify_token(redis_client, keys, raw) is None
    assert await verify_token(redis_client, keys, kept_raw) is not None

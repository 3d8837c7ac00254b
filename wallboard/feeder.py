"""The feeder: the one Kafka consumer that appends every Delta to the wallboard Redis stream.

Gateways never read Kafka themselves. One feeder (the gateway process holding
``RedisKeys.wallboard_feeder_lock``, or ``python -m wallboard feeder``) consumes
``wallboard.updates`` and ``alerts`` and XADDs each delta to ``RedisKeys.wallboard_stream``;
the stream entry id is the global sequence number every gateway process shares.

Exactly once into the stream: one Lua script per record checks the partition's last
appended offset (kept in Redis next to the stream), records the new one, drops an event id
seen in the last few minutes (an upstream re-send) and XADDs, atomically. On (re)assignment
the consumer seeks to the offset after the one Redis holds, so a restart or a rebalance
neither loses nor duplicates. Kafka offsets are committed after each batch as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from gridhub.cloudevents import DecodeError, decode
from gridhub.domain.hierarchy import City
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics
from wallboard import metrics
from wallboard.scope import alert_delta, hub_keys

log = logging.getLogger("wallboard.feeder")
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
DELTA_KINDS = ("matter", "alert", "kpi", "command", "command_ack", "calendar")
SEEN_TTL_SECONDS = 600
TREND_TTL_SECONDS = 32 * 86400
LOCK_TTL_MS = 10_000

_APPEND = """
local last = redis.call('HGET', KEYS[1], ARGV[1])
if last and tonumber(last) >= tonumber(ARGV[2]) then return false end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[5] == '' then return false end
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[3]) then return false end
return redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'd', ARGV[5])
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def local_day_hour(iso: str | None) -> tuple[str, str] | None:
    """(YYYYMMDD, HH) of an ISO timestamp in the city's local time; None if unreadable."""
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(LOCAL_TZ)
    return local.strftime("%Y%m%d"), local.strftime("%H")


def to_delta(topic: str, topics: Topics, value: bytes | None, headers: Any) -> tuple[str, dict]:
    """Decode one Kafka record into (dedupe id, Delta); raise DecodeError when it is not one."""
    event = decode(value, headers)
    data = dict(event.data)
    if topic == topics.alerts:
        if not isinstance(data.get("id"), str) or not data.get("matter_id"):
            raise DecodeError("alert has no id or matter_id")
        at = data.get("fired_at") or event.time.isoformat()
        return f"alert:{data['id']}", alert_delta(data, str(at))
    if data.get("kind") not in DELTA_KINDS or not isinstance(data.get("scope"), dict):
        raise DecodeError("not a Delta: kind or scope missing")
    if data["kind"] == "alert" and isinstance(data.get("alert"), dict) and data["alert"].get("id"):
        return f"alert:{data['alert']['id']}", data  # the same alert may come on both topics
    data.setdefault("at", event.time.isoformat())
    return event.id, data


class Feeder:
    """Consumes the Kafka topics and appends deltas to the Redis stream (see module doc)."""

    def __init__(
        self, settings: Settings, city: City, redis: aioredis.Redis, group_id: str | None = None
    ) -> None:
        self.settings = settings
        self.group_id = group_id or f"{settings.topic_prefix}wallboard-feeder"
        self.city = city
        self.redis: Any = redis
        self.keys = RedisKeys(settings.redis_prefix)
        self.topics = Topics.from_settings(settings)
        self._append = redis.register_script(_APPEND)
        self.consumer: AIOKafkaConsumer | None = None

    async def _seek_to_redis_offsets(self, assigned: set[TopicPartition]) -> None:
        assert self.consumer is not None
        stored = await self.redis.hgetall(self.keys.wallboard_offsets())
        offsets = {bytes(k).decode(): int(v) for k, v in stored.items()}
        for tp in assigned:
            last = offsets.get(f"{tp.topic}:{tp.partition}")
            if last is not None:
                self.consumer.seek(tp, last + 1)

    async def run(self) -> None:
        """Consume until cancelled."""
        feeder = self

        class Listener(ConsumerRebalanceListener):
            async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
                return None

            async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
                await feeder._seek_to_redis_offsets(assigned)

        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=5000,
        )
        await self.consumer.start()
        try:
            self.consumer.subscribe(
                [self.topics.wallboard, self.topics.alerts], listener=Listener()
            )
            while True:
                batches = await self.consumer.getmany(timeout_ms=200, max_records=2000)
                if batches:
                    await self._feed(batches)
                    await self.consumer.commit()
        finally:
            with contextlib.suppress(Exception):
                await self.consumer.stop()

    async def _feed(self, batches: Mapping[TopicPartition, list[Any]]) -> None:
        appended: list[dict[str, Any]] = []
        pipe = self.redis.pipeline(transaction=False)
        count = 0
        for tp, records in batches.items():
            for record in records:
                try:
                    event_id, delta = to_delta(tp.topic, self.topics, record.value, record.headers)
                    payload = orjson.dumps(delta)
                except DecodeError as exc:
                    metrics.FEEDER_REJECTED.inc()
                    log.warning("skipping %s@%s: %s", tp, record.offset, exc)
                    event_id, delta, payload = "", {}, b""
                await self._append(
                    keys=[
                        self.keys.wallboard_offsets(),
                        self.keys.wallboard_seen(event_id or f"bad:{record.offset}"),
                        self.keys.wallboard_stream(),
                    ],
                    args=[
                        f"{tp.topic}:{tp.partition}",
                        record.offset,
                        SEEN_TTL_SECONDS,
                        self.settings.wallboard_stream_maxlen,
                        payload,
                    ],
                    client=pipe,
                )
                appended.append(delta)
                count += 1
        results = await pipe.execute()
        fresh = [d for d, entry in zip(appended, results, strict=True) if entry]
        metrics.FEEDER_APPENDED.inc(len(fresh))
        if fresh:
            await self._project(fresh)

    async def _project(self, deltas: list[dict[str, Any]]) -> None:
        """Keep what snapshots need that no other projection holds: one-click commands with
        their acknowledgements, and per-hour counters for the trend charts."""
        counted: list[tuple[str, str, str, frozenset[str]]] = []
        for delta in deltas:
            kind = delta.get("kind")
            if kind in ("command", "command_ack"):
                await self._project_command(delta)
            elif kind == "matter" and isinstance(delta.get("matter"), dict):
                matter = delta["matter"]
                keys = hub_keys(delta, self.city)
                when = local_day_hour(matter.get("accepted_at"))
                if when:
                    counted.append((f"a:{matter.get('id')}", "accepted", ",".join(when), keys))
                if matter.get("state") in ("resolved", "closed"):
                    when = local_day_hour(matter.get("resolved_at") or matter.get("updated_at"))
                    if when:
                        counted.append((f"r:{matter.get('id')}", "resolved", ",".join(when), keys))
        if not counted:
            return
        pipe = self.redis.pipeline(transaction=False)
        for member, _, stamp, _ in counted:
            pipe.sadd(self.keys.wallboard_counted(stamp.split(",")[0]), member)
        firsts = await pipe.execute()
        pipe = self.redis.pipeline(transaction=False)
        for (_, metric, stamp, keys), first in zip(counted, firsts, strict=True):
            if not first:
                continue
            day, hour = stamp.split(",")
            hourly = self.keys.wallboard_hourly(day)
            for key in keys:
                pipe.hincrby(hourly, f"{key}|{metric}|{hour}", 1)
            pipe.expire(hourly, TREND_TTL_SECONDS)
            pipe.expire(self.keys.wallboard_counted(day), TREND_TTL_SECONDS)
        await pipe.execute()

    async def _project_command(self, delta: dict[str, Any]) -> None:
        data = delta.get("data") or {}
        command_id = data.get("command_id")
        if not isinstance(command_id, str) or not command_id:
            return
        key = self.keys.wallboard_commands()
        raw = await self.redis.hget(key, command_id)
        entry: dict[str, Any] = orjson.loads(raw) if raw else {"command_id": command_id, "acks": {}}
        if delta["kind"] == "command":
            entry.update({k: v for k, v in data.items() if k != "acks"})
            entry["scope"] = delta.get("scope")
        else:
            target = data.get("target") or {}
            target_key = f"{target.get('kind')}:{target.get('code')}"
            entry["acks"].setdefault(target_key, {k: data.get(k) for k in ("user", "acked_at")})
        await self.redis.hset(key, command_id, orjson.dumps(entry))


class FeederLeader:
    """Runs the feeder in whichever gateway process holds the Redis lock, so exactly one feeds."""

    def __init__(self, feeder: Feeder, retry_seconds: float = 2.0) -> None:
        self.feeder = feeder
        self.token = secrets.token_hex(8)
        self.retry_seconds = retry_seconds
        self.leading = False

    async def run(self) -> None:
        """Campaign for the lock forever; feed while holding it."""
        redis, key = self.feeder.redis, self.feeder.keys.wallboard_feeder_lock()
        renew = redis.register_script(_RENEW)
        release = redis.register_script(_RELEASE)
        try:
            while True:
                if await redis.set(key, self.token, nx=True, px=LOCK_TTL_MS):
                    self.leading = True
                    metrics.FEEDER_LEADER.set(1)
                    task = asyncio.create_task(self.feeder.run())
                    try:
                        while not task.done():
                            await asyncio.wait({task}, timeout=LOCK_TTL_MS / 3000)
                            if not await renew(keys=[key], args=[self.token, LOCK_TTL_MS]):
                                log.warning("lost the feeder lock; stepping down")
                                break
                    finally:
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError, Exception):
                            await task
                        if task.done() and not task.cancelled() and task.exception():
                            log.error("feeder stopped: %r", task.exception())
                        self.leading = False
                        metrics.FEEDER_LEADER.set(0)
                        with contextlib.suppress(Exception):
                            await release(keys=[key], args=[self.token])
                await asyncio.sleep(self.retry_seconds)
        finally:
            with contextlib.suppress(Exception):
                await release(keys=[key], args=[self.token])

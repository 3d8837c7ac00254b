"""The feeder: the one Kafka consumer that appends every Delta to the wallboard Redis stream.

Gateways never read Kafka themselves. One feeder (the gateway process holding
``RedisKeys.wallboard_feeder_lock``, or ``python -m wallboard feeder``) consumes
``wallboard.updates`` and ``alerts`` and XADDs each delta to ``RedisKeys.wallboard_stream``;
the stream entry id is the global sequence number every gateway process shares.

Exactly once into the stream: one Lua script per Kafka batch (one round trip, atomic)
checks, for each record, the partition's last appended offset (kept in Redis next to the
stream), drops an event id seen in the last few minutes (an upstream re-send), XADDs, and
records each partition's new offset. On (re)assignment the consumer seeks to the offset
after the one Redis holds, so a restart or a rebalance neither loses nor duplicates. Kafka
offsets are committed about once a second as well (Redis holds the truth).

A record that is not a delta goes to the dead-letter topic with the reason, acknowledged
before the script records its offset (:mod:`gridhub.deadletter`); the others go on.

The feeder is best run as its own process (``python -m wallboard feeder``): it then has a
core of its own and never delays a gateway's fan-out. Gateways started without
``--no-feeder`` keep campaigning for the same lock, as hot standbys.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from gridhub.cloudevents import DecodeError, KafkaRecord, decode, register
from gridhub.deadletter import DeadLetters
from gridhub.domain.hierarchy import City
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics
from wallboard import metrics
from wallboard.leader import LOCK_TTL_MS, Leader
from wallboard.scope import alert_delta, hub_keys
from wallboard.snapshot import LOCAL_TZ
from wallboard.summaries import Summarizer, summarizer_lock

log = logging.getLogger("wallboard.feeder")
__all__ = [
    "LOCAL_TZ",
    "LOCK_TTL_MS",
    "Feeder",
    "FeederLeader",
    "Leader",
    "SummarizerLeader",
    "local_day_hour",
    "to_delta",
]
DELTA_TYPE = register("wallboard.delta", 1)  # what the feeder reads; newer versions are refused
ALERT_TYPE = register("alert", 1)
DELTA_KINDS = ("matter", "alert", "kpi", "command", "command_ack", "calendar")
SEEN_TTL_SECONDS = 600
TREND_TTL_SECONDS = 32 * 86400
BATCH_RECORDS = 1000  # records per getmany, so per script call
COMMIT_SECONDS = 1.0

# One call per Kafka batch. KEYS: offsets hash, stream, then one "seen" key per record.
# ARGV: seen TTL, stream MAXLEN, then per record: "topic:partition", offset, payload ('' =
# not a delta: only its offset is recorded). Returns, per record, its stream id or false.
_APPEND = """
local offsets, stream = KEYS[1], KEYS[2]
local ttl, maxlen = ARGV[1], ARGV[2]
local last, moved, out = {}, {}, {}
for i = 1, #KEYS - 2 do
  local part, offset, payload = ARGV[3 * i], ARGV[3 * i + 1], ARGV[3 * i + 2]
  if last[part] == nil then
    local stored = redis.call('HGET', offsets, part)
    last[part] = stored and tonumber(stored) or -1
  end
  local id = false
  if tonumber(offset) > last[part] then
    last[part] = tonumber(offset)
    moved[part] = offset
    if payload ~= '' and redis.call('SET', KEYS[2 + i], '1', 'NX', 'EX', ttl) then
      id = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'd', payload)
    end
  end
  out[i] = id
end
for part, offset in pairs(moved) do redis.call('HSET', offsets, part, offset) end
return out
"""
# The trend counters of one batch. KEYS: per matter (counted set, hourly hash). ARGV: TTL,
# then per matter: member, newline-joined hash fields to increment the first time it counts.
_COUNT = """
local ttl = ARGV[1]
for i = 1, #KEYS, 2 do
  local member, fields = ARGV[i + 1], ARGV[i + 2]
  if redis.call('SADD', KEYS[i], member) == 1 then
    for field in string.gmatch(fields, '[^\\n]+') do
      redis.call('HINCRBY', KEYS[i + 1], field, 1)
    end
    redis.call('EXPIRE', KEYS[i + 1], ttl)
    redis.call('EXPIRE', KEYS[i], ttl)
  end
end
return true
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
    expected = ALERT_TYPE if topic == topics.alerts else DELTA_TYPE
    if event.type != expected:
        raise DecodeError(f"ce_type {event.type!r} is not {expected}")
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
        self._count = redis.register_script(_COUNT)
        self.consumer: AIOKafkaConsumer | None = None
        self.dead = DeadLetters(settings, source="/wallboard/feeder")

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
            fetch_max_wait_ms=100,
        )
        await self.consumer.start()
        committed, fed = time.monotonic(), {}  # fed: the next offset per partition, once fed
        try:
            self.consumer.subscribe(
                [self.topics.wallboard, self.topics.alerts], listener=Listener()
            )
            while True:
                batches = await self.consumer.getmany(timeout_ms=200, max_records=BATCH_RECORDS)
                if batches:
                    await self._feed(batches)
                    fed.update({tp: records[-1].offset + 1 for tp, records in batches.items()})
                if time.monotonic() - committed >= COMMIT_SECONDS:  # Redis holds the truth
                    await self._commit(fed)
                    committed = time.monotonic()
        finally:
            with contextlib.suppress(Exception):
                await self._commit(fed)
            with contextlib.suppress(Exception):
                await self.consumer.stop()
            await self.dead.stop()

    async def _commit(self, fed: dict[TopicPartition, int]) -> None:
        """Commit what was fed, never what was only fetched (a batch cut short, e.g. waiting
        for a dead letter's acknowledgement, must be read again)."""
        assert self.consumer is not None
        owned = self.consumer.assignment()
        if offsets := {tp: offset for tp, offset in fed.items() if tp in owned}:
            await self.consumer.commit(offsets)

    async def _feed(self, batches: Mapping[TopicPartition, list[Any]]) -> None:
        """Append one Kafka batch to the stream: one atomic script call (see module doc)."""
        keys = [self.keys.wallboard_offsets(), self.keys.wallboard_stream()]
        args: list[Any] = [SEEN_TTL_SECONDS, self.settings.wallboard_stream_maxlen]
        appended: list[dict[str, Any]] = []
        refused: list[KafkaRecord] = []
        for tp, records in batches.items():
            part = f"{tp.topic}:{tp.partition}"
            for record in records:
                try:
                    event_id, delta = to_delta(tp.topic, self.topics, record.value, record.headers)
                    payload = orjson.dumps(delta)
                except DecodeError as exc:
                    metrics.FEEDER_REJECTED.inc()
                    log.warning("dead letter %s@%s: %s", tp, record.offset, exc)
                    refused.append(self.dead.record(str(exc), record))
                    event_id, delta, payload = "", {}, b""
                keys.append(self.keys.wallboard_seen(event_id or f"bad:{part}:{record.offset}"))
                args += [part, record.offset, payload]
                appended.append(delta)
        if refused:  # acknowledged before the script records their offsets
            await self.dead.publish(refused)
        if not appended:
            return
        results = await self._append(keys=keys, args=args)
        fresh = [d for d, entry in zip(appended, results, strict=True) if entry]
        metrics.FEEDER_APPENDED.inc(len(fresh))
        if fresh:
            await self._project(fresh)

    async def _project(self, deltas: list[dict[str, Any]]) -> None:
        """Keep what snapshots need that no other projection holds: one-click commands with
        their acknowledgements, and per-hour counters for the trend charts (one call)."""
        keys: list[str] = []
        args: list[Any] = [TREND_TTL_SECONDS]
        for delta in deltas:
            kind = delta.get("kind")
            if kind in ("command", "command_ack"):
                await self._project_command(delta)
            elif kind == "matter" and isinstance(delta.get("matter"), dict):
                matter = delta["matter"]
                hubs = sorted(hub_keys(delta, self.city))
                counted = [("a", "accepted", local_day_hour(matter.get("accepted_at")))]
                if matter.get("state") in ("resolved", "closed"):
                    when = local_day_hour(matter.get("resolved_at") or matter.get("updated_at"))
                    counted.append(("r", "resolved", when))
                for tag, metric, stamp in counted:
                    if stamp is None:
                        continue
                    day, hour = stamp
                    keys += [self.keys.wallboard_counted(day), self.keys.wallboard_hourly(day)]
                    args.append(f"{tag}:{matter.get('id')}")
                    args.append("\n".join(f"{hub}|{metric}|{hour}" for hub in hubs))
        if keys:
            await self._count(keys=keys, args=args)

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


class FeederLeader(Leader):
    """Runs the feeder in whichever process holds the feeder lock, so exactly one feeds."""

    name = "feeder"

    def __init__(
        self, feeder: Feeder, retry_seconds: float = 2.0, standby_seconds: float = 0.0
    ) -> None:
        super().__init__(
            feeder.redis,
            feeder.keys.wallboard_feeder_lock(),
            feeder.run,
            retry_seconds,
            standby_seconds,
        )
        self.feeder = feeder

    def _set_leading(self, leading: bool) -> None:
        self.leading = leading
        metrics.FEEDER_LEADER.set(1 if leading else 0)


class SummarizerLeader(Leader):
    """Runs the :class:`~wallboard.summaries.Summarizer` in one process (its own lock)."""

    name = "summarizer"

    def __init__(
        self, summarizer: Summarizer, retry_seconds: float = 2.0, standby_seconds: float = 0.0
    ) -> None:
        super().__init__(
            summarizer.redis,
            summarizer_lock(summarizer.settings),
            summarizer.run,
            retry_seconds,
            standby_seconds,
        )
        self.summarizer = summarizer

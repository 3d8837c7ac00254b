"""Publishing a command to ``matters.commands`` and waiting until streams/ has applied it.

    bus = CommandBus(settings, keys, topics, redis, producer)
    outcome = await bus.submit(command)   # applied / rejected / pending

The record is built by :func:`gridhub.commands_topic.command_record` (the one codec of
``matters.commands``: a CloudEvent keyed by matter id, so one writer per matter). streams/
RPUSHes a CommandResult to ``RedisKeys.command_result(command_id)``; we wait with
``BLMOVE key key`` (a blocking read that leaves the result in place, so
``GET /v1/commands/{id}`` can read it again).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Literal

import orjson
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from redis.exceptions import TimeoutError as RedisTimeoutError

from dispatch.deps import text
from dispatch.errors import ApiError
from gridhub.commands_topic import command_record
from gridhub.domain.commands import Command
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics

SOURCE = "/dispatch"


@dataclass(frozen=True)
class Outcome:
    """What became of a command: ``applied`` or ``rejected`` (with streams' result) or
    ``pending`` when streams/ did not answer within the wait."""

    command_id: str
    matter_id: str
    status: Literal["applied", "rejected", "pending"]
    result: dict[str, Any] | None = None


def make_producer(settings: Settings) -> AIOKafkaProducer:
    """The API's Kafka producer: acks=all and idempotent, so a 2xx means the broker has it."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id="gridhub-dispatch",
        acks="all",
        enable_idempotence=True,
        linger_ms=1,
        request_timeout_ms=10000,
    )


class CommandBus:
    """Publishes commands and waits for their results; one per process."""

    def __init__(
        self,
        settings: Settings,
        keys: RedisKeys,
        topics: Topics,
        redis: aioredis.Redis,
        producer: AIOKafkaProducer,
    ) -> None:
        self.settings = settings
        self.keys = keys
        self.topics = topics
        self.redis = redis
        self.producer = producer

    async def publish(self, command: Command) -> None:
        """Record who submitted ``command`` (its actor) and publish it; 503 if Kafka does not
        take it."""
        cid, actor = command.command_id, command.actor
        meta = {
            "command_id": cid,
            "matter_id": command.matter_id,
            "type": command.type,
            "user": actor.user_id,
            "role": actor.role,
            "scope_kind": actor.scope_kind,
            "scope_code": actor.scope_code,
            "submitted_at": str(time.time()),
        }
        key = self.keys.command_pending(cid)
        await self.redis.hset(key, mapping=meta)  # type: ignore[arg-type]
        await self.redis.expire(key, self.settings.command_status_ttl_seconds)
        record = command_record(command, source=SOURCE)
        try:
            await self.producer.send_and_wait(
                self.topics.commands, value=record.value, key=record.key, headers=record.headers
            )
        except KafkaError as exc:
            raise ApiError(
                503,
                "unavailable",
                f"the command could not be published ({type(exc).__name__}); nothing happened",
                headers={"Retry-After": "5"},
            ) from exc

    async def result(self, command_id: str) -> dict[str, Any] | None:
        """The CommandResult of ``command_id`` if streams/ has pushed one (non-blocking)."""
        blob = await self.redis.lindex(self.keys.command_result(command_id), 0)
        return orjson.loads(blob) if blob is not None else None

    async def wait(self, command_id: str, seconds: float) -> dict[str, Any] | None:
        """Block up to ``seconds`` for the CommandResult; None if it did not come."""
        if seconds <= 0:
            return await self.result(command_id)
        key = self.keys.command_result(command_id)
        try:
            blob = await self.redis.blmove(key, key, seconds, "LEFT", "RIGHT")  # type: ignore[arg-type]
        except RedisTimeoutError:  # the wait ran out client-side: still pending, not an error
            return await self.result(command_id)
        return orjson.loads(blob) if blob is not None else None

    async def submit(self, command: Command, wait_seconds: float | None = None) -> Outcome:
        """Publish ``command`` and wait (bounded) for streams/ to apply or reject it."""
        await self.publish(command)
        wait = self.settings.command_wait_seconds if wait_seconds is None else wait_seconds
        result = await self.wait(command.command_id, wait)
        return outcome_of(command.command_id, command.matter_id, result)

    async def meta(self, command_id: str) -> dict[str, str] | None:
        """Who submitted ``command_id`` (and for which matter); None when unknown or expired."""
        raw = await self.redis.hgetall(self.keys.command_pending(command_id))
        if not raw:
            return None
        return {text(k): text(v) for k, v in raw.items()}

    async def view_at_least(self, matter_id: str, version: int, within: float = 1.0) -> Any:
        """The matter's view once its projection has reached ``version`` (or the latest after
        ``within`` seconds)."""
        deadline = time.monotonic() + within
        while True:
            blob = await self.redis.get(self.keys.matter(matter_id))
            view = orjson.loads(blob) if blob is not None else None
            if view is not None and int(view.get("version", 0)) >= version:
                return view
            if time.monotonic() >= deadline:
                return view
            await asyncio.sleep(0.02)


def outcome_of(command_id: str, matter_id: str, result: dict[str, Any] | None) -> Outcome:
    """An :class:`Outcome` from a CommandResult (None: still pending)."""
    if result is None:
        return Outcome(command_id, matter_id, "pending")
    if result.get("status") == "rejected":
        return Outcome(command_id, matter_id, "rejected", result)
    return Outcome(command_id, matter_id, "applied", result)

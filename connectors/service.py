"""Submitting one matter: dedupe, publish to ``matters.intake``, record what intake knows.

    service = IntakeService(settings, config, city, redis, publisher)
    accepted = await service.submit(matter)       # raises IntakeUnavailable (→ 503)
    accepted.matter_id, accepted.duplicate

Used by every HTTP channel and by the batch importer, so the order of steps lives here only:

1. claim (source, source id) in Redis (SET NX + TTL); a duplicate returns the same id;
2. publish the CloudEvent keyed by matter id and wait for the broker's ack;
3. on failure, release the claim (a retry can publish) and raise :class:`IntakeUnavailable`;
4. after the ack: mark the claim done and write ``RedisKeys.intake_seen(id)`` (what intake
   knows until streams/ projects the matter) plus the public index Open311 lists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from connectors.config import IntakeConfig
from connectors.dedupe import Dedupe
from connectors.errors import IntakeUnavailable
from connectors.publisher import IntakePublisher
from gridhub.cloudevents import CloudEvent, encode, register
from gridhub.domain.hierarchy import City
from gridhub.intake import IntakeMatter, Source, intake_event
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics

log = logging.getLogger(__name__)

REJECTED_EVENT = "intake.rejected"
REJECTED_VERSION = 1
register(REJECTED_EVENT, REJECTED_VERSION)

#: Channels whose matters Open311 clients may list and read (citizen-facing ones).
PUBLIC_SOURCES = frozenset({Source.OPEN311, Source.APP})


def public_index_key(keys: RedisKeys) -> str:
    """Sorted set of public matter ids scored by received time (epoch seconds).

    Kept here because :class:`RedisKeys` has no name for it yet.
    """
    return f"{keys.prefix}intake:public"


@dataclass(frozen=True)
class Accepted:
    """The answer to a submission: the matter id and whether it was already known."""

    matter_id: str
    duplicate: bool


def seen_doc(matter: IntakeMatter, city: City) -> dict[str, Any]:
    """What intake knows of an accepted matter (no reporter contact: it is private)."""
    doc = matter.model_dump(mode="json", exclude_none=True, exclude={"reporter"})
    doc["state"] = "resolved" if matter.solved_on_spot else "accepted"
    doc["accepted_at"] = doc["received_at"]
    doc["updated_at"] = doc["received_at"]
    doc["village"] = city.village_of_grid(matter.grid)
    doc["township"] = city.township_of_grid(matter.grid)
    return doc


class IntakeService:
    """The one place where a normalised matter becomes an accepted one."""

    def __init__(
        self,
        settings: Settings,
        config: IntakeConfig,
        city: City,
        redis: aioredis.Redis,
        publisher: IntakePublisher,
    ) -> None:
        self.settings = settings
        self.config = config
        self.city = city
        self.redis = redis
        self.publisher = publisher
        self.keys = RedisKeys(settings.redis_prefix)
        self.topics = Topics.from_settings(settings)
        self.dedupe = Dedupe(
            redis,
            self.keys,
            settings.dedupe_ttl_seconds,
            wait_seconds=config.pending_wait_seconds,
            stale_after=config.stale_pending_seconds,
            retry_after=config.retry_after_seconds,
        )

    def _redis_down(self, exc: Exception) -> IntakeUnavailable:
        return IntakeUnavailable(f"Redis is unavailable: {exc}", self.config.retry_after_seconds)

    async def submit(self, matter: IntakeMatter) -> Accepted:
        """Accept ``matter`` exactly once; return only after Kafka acknowledged it."""
        try:
            claim = await self.dedupe.claim(matter.source.value, matter.source_id)
        except RedisError as exc:
            raise self._redis_down(exc) from None
        if not claim.new:
            return Accepted(matter.matter_id, duplicate=True)
        try:
            await self.publisher.publish(self.topics.intake, encode(intake_event(matter)))
        except BaseException:
            try:
                await self.dedupe.release(claim)
            except RedisError:
                log.warning("could not release dedupe claim %s; it expires as stale", claim.key)
            raise
        await self._record(matter, claim)
        return Accepted(matter.matter_id, duplicate=False)

    async def _record(self, matter: IntakeMatter, claim: Any) -> None:
        """After the ack: mark the claim done, write intake_seen and the public index.

        Kafka already has the matter, so a Redis failure here is logged, not answered 503
        (the claim then goes stale and a retry republishes the same id, which is harmless).
        """
        ttl = self.settings.dedupe_ttl_seconds
        try:
            pipe = self.redis.pipeline(transaction=False)
            await self.dedupe.confirm(claim, matter.matter_id, pipe)
            pipe.set(
                self.keys.intake_seen(matter.matter_id),
                orjson.dumps(seen_doc(matter, self.city)),
                ex=ttl,
            )
            if matter.source in PUBLIC_SOURCES:
                pipe.zadd(
                    public_index_key(self.keys), {matter.matter_id: matter.received_at.timestamp()}
                )
            await pipe.execute()
        except RedisError as exc:
            log.error(
                "matter %s is on Kafka but intake_seen was not written: %s", matter.matter_id, exc
            )

    async def dead_letter(self, data: dict[str, Any], subject: str | None = None) -> None:
        """Publish a rejected input to the dead-letter topic (``intake.rejected.v1``)."""
        event = CloudEvent.new(
            REJECTED_EVENT, REJECTED_VERSION, source="/intake/import", data=data, subject=subject
        )
        await self.publisher.publish(self.topics.dead_letter, encode(event))

    async def seen(self, matter_id: str) -> dict[str, Any] | None:
        """What intake recorded of ``matter_id``, or None."""
        raw = await self.redis.get(self.keys.intake_seen(matter_id))
        return orjson.loads(raw) if raw else None

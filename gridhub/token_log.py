"""The durable record of API tokens: a compacted Kafka topic (:attr:`Topics.tokens`).

Services verify tokens in Redis (:mod:`gridhub.auth`); this topic is what survives Redis
losing its data. The key is the token's SHA-256 (never the token itself), the value the
principal as a CloudEvent (``gridhub.token.v1``, its JSON in the body), and a revoked
token's latest record is a tombstone (no value). Compaction keeps each token's latest
record. :func:`gridhub.auth.issue_token` and :func:`~gridhub.auth.revoke_token` write here
first (acknowledged) and then to Redis; :func:`restore_tokens` puts every live token back
into Redis (the projection rebuild runs it, :mod:`streams.rebuild`).

    async with TokenLog(settings) as log:
        raw, principal = await issue_token(redis, keys, city, user="u", role="leader", log=log)
        await revoke_token(redis, keys, principal.token_id, log=log)
    restored = await restore_tokens(settings, redis, keys)

A record that is not a readable token goes to the dead-letter topic with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Any

import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer

from gridhub.auth import Principal, TokenError, forget_token, principal_from, store_token
from gridhub.cloudevents import CloudEvent, DecodeError, KafkaRecord, decode, encode, register
from gridhub.deadletter import DeadLetters, dead_letter_record
from gridhub.kafka_admin import ensure_topics
from gridhub.kafka_read import read_topics
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics

log = logging.getLogger("gridhub.tokens")
TOKEN_EVENT = "token"
TOKEN_TYPE = register(TOKEN_EVENT, 1)
SOURCE = "/auth"
_DIGEST = re.compile(r"[0-9a-f]{64}")


class TokenLog:
    """Writes token records, each acknowledged by Kafka (acks=all) before it returns."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = Topics.from_settings(settings).tokens
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Create the compacted topic if missing (never auto-created) and connect."""
        if self._producer is not None:
            return
        await asyncio.to_thread(ensure_topics, self.settings, [self.topic])
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            client_id="gridhub-tokens",
            acks="all",
            enable_idempotence=True,
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def __aenter__(self) -> TokenLog:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def _send(self, digest: str, value: bytes | None, headers: list[Any]) -> None:
        await self.start()
        assert self._producer is not None
        await self._producer.send_and_wait(
            self.topic, key=digest.encode(), value=value, headers=headers
        )

    async def put(self, digest: str, principal: Principal) -> None:
        """Record an issued token (its principal) under its hash."""
        record = token_record(principal)
        await self._send(digest, record.value, record.headers)

    async def tombstone(self, digest: str) -> None:
        """Record that the token with this hash is revoked."""
        await self._send(digest, None, [])

    async def live(self) -> dict[str, Principal]:
        """Every token the record holds that is neither revoked nor expired, by hash."""
        latest, _, _ = await read_tokens(self.settings)
        now = time.time()
        return {
            d: p
            for d, p in latest.items()
            if p is not None and (p.expires_at is None or p.expires_at > now)
        }


def token_record(principal: Principal) -> KafkaRecord:
    """The token record's value and headers (the key is the token's hash, set by the caller)."""
    event = CloudEvent.new(TOKEN_EVENT, 1, source=SOURCE, data=asdict(principal))
    return encode(event)


def parse_token(
    key: bytes | None, value: bytes | None, headers: Any
) -> tuple[str, Principal | None]:
    """(hash, principal or None for a tombstone) of one record; DecodeError with the reason."""
    digest = key.decode(errors="replace") if key is not None else ""
    if not _DIGEST.fullmatch(digest):
        raise DecodeError(f"token record key {digest[:80]!r} is not a SHA-256 hex digest")
    if value is None:
        return digest, None
    event = decode(value, headers)
    if event.type != TOKEN_TYPE:
        raise DecodeError(f"ce_type {event.type!r} is not {TOKEN_TYPE}")
    try:
        return digest, principal_from(digest, event.data)
    except TokenError as exc:
        raise DecodeError(str(exc)) from None


Refused = tuple[str, str, int, int, bytes | None, bytes | None, list[Any]]


async def read_tokens(
    settings: Settings, start: dict[tuple[str, int], int] | None = None
) -> tuple[dict[str, Principal | None], list[Refused], dict[tuple[str, int], int]]:
    """The latest record per token hash (None: revoked) from ``start`` (default: the
    beginning) to the end now; the unreadable records; where to read on from."""
    topic = Topics.from_settings(settings).tokens
    raw = await read_topics(settings, [topic], start)
    latest: dict[str, Principal | None] = {}
    refused: list[Refused] = []
    after = dict(start or {})
    for (name, partition), rows in raw.items():
        for offset, _, key, value, headers in rows:
            try:
                digest, principal = parse_token(key, value, headers)
            except DecodeError as exc:
                refused.append((str(exc), name, partition, offset, key, value, headers))
                continue
            latest[digest] = principal
        if rows:
            after[(name, partition)] = rows[-1][0] + 1
    return latest, refused, after


@dataclass
class Restored:
    """What :func:`restore_tokens` did: live tokens now in Redis, revoked or expired ones
    removed from it, unreadable records dead-lettered."""

    live: int = 0
    removed: int = 0
    refused: int = 0


async def restore_tokens(settings: Settings, redis: aioredis.Redis, keys: RedisKeys) -> Restored:
    """Make Redis hold exactly the live tokens of the record: each live one stored with its
    expiry, each revoked or expired one removed (tokens the record never held are left).
    Reads on until no record arrived meanwhile, so a revocation made during the restore
    is not undone by it. Unreadable records go to the dead-letter topic."""
    await asyncio.to_thread(ensure_topics, settings, [Topics.from_settings(settings).tokens])
    done = Restored()
    live: set[str] = set()
    start: dict[tuple[str, int], int] | None = None
    refused: list[Refused] = []
    while True:
        latest, bad, after = await read_tokens(settings, start)
        refused += bad
        now = time.time()
        pipe = redis.pipeline(transaction=False)
        for digest, principal in latest.items():
            expired = (
                principal is not None
                and principal.expires_at is not None
                and (principal.expires_at <= now)
            )
            if principal is not None and not expired:
                store_token(pipe, keys, digest, principal)
                live.add(digest)
            else:
                forget_token(pipe, keys, digest)
                live.discard(digest)
                done.removed += 1
        await pipe.execute()
        if not after or after == start:  # an empty record, or nothing new since last pass
            break
        start = after
    done.live, done.refused = len(live), len(refused)
    if refused:
        dead = DeadLetters(settings, source=SOURCE + "/restore")
        try:
            for reason, *_ in refused:
                log.warning("dead letter on the token record: %s", reason)
            await dead.publish([dead_letter_record(*r, source=dead.source) for r in refused])
        finally:
            await dead.stop()
    log.info("tokens restored from Kafka: %s", asdict(done))
    return done

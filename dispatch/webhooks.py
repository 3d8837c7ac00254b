"""Push-dispatch: POST each new record of a department's queue topic to its webhook.

    deliverer = WebhookDeliverer(settings, city, redis)
    task = asyncio.create_task(deliverer.run())       # in the dispatch process, or
    python -m dispatch webhooks                       # as its own process

A consumer of every ``dept.<code>`` topic turns each record for a department that has a
webhook into a *delivery* kept in Redis (``RedisKeys.webhook_delivery``; the department's
recent ids in ``webhook_log``) and schedules it in ``webhook_retry`` (a sorted set scored by
the next attempt time); Kafka offsets are committed once the deliveries are recorded. A
retry loop claims due deliveries (ZREM, so several processes never send one twice at once)
and POSTs the CloudEvent in structured mode (``application/cloudevents+json``), signed with
``X-Gridhub-Signature: sha256=<hmac>`` when the webhook has a secret. A non-2xx answer or a
network error is retried with exponential backoff (base × 2^(attempt-1), capped at an hour)
up to ``webhook_max_attempts``; then the delivery is ``failed``. Status is visible through
``GET /v1/departments/{code}/webhook/deliveries``.

Every record is validated, webhook or not: one that is not a readable task
(``gridhub.dept.task.v1``) goes to the dead-letter topic with the reason
(:mod:`gridhub.deadletter`), acknowledged by Kafka before the offsets are committed past
it; the records around it go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from typing import Any

import httpx
import orjson
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer

from gridhub.cloudevents import CloudEvent, DecodeError, KafkaRecord, decode, register
from gridhub.deadletter import DeadLetters
from gridhub.domain.hierarchy import City
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics

log = logging.getLogger("dispatch.webhooks")
DELIVERY_TTL_SECONDS = 7 * 86400
LOG_LENGTH = 1000
MAX_DELAY_SECONDS = 3600.0
TASK_TYPE = register("dept.task", 1)  # what a queue carries; newer versions are refused


def backoff(settings: Settings, attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt."""
    return float(min(MAX_DELAY_SECONDS, settings.webhook_base_delay_seconds * 2 ** (attempts - 1)))


def read_task(value: bytes | None, headers: Any) -> CloudEvent:
    """The task of one queue record; DecodeError (the reason) when it is not one."""
    event = decode(value, headers)
    if event.type != TASK_TYPE:
        raise DecodeError(f"ce_type {event.type!r} is not {TASK_TYPE}")
    return event


def signature(secret: str, body: bytes) -> str:
    """The ``X-Gridhub-Signature`` header value of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookDeliverer:
    """Consumes the department topics and delivers to registered webhooks (see module doc)."""

    def __init__(
        self,
        settings: Settings,
        city: City,
        redis: aioredis.Redis,
        *,
        offset_reset: str = "latest",
        poll_seconds: float = 0.2,
        concurrency: int = 32,
    ) -> None:
        self.settings = settings
        self.city = city
        self.redis = redis
        self.keys = RedisKeys(settings.redis_prefix)
        self.topics = Topics.from_settings(settings)
        self.offset_reset = offset_reset
        self.poll_seconds = poll_seconds
        self.ready = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._inflight: set[asyncio.Task[None]] = set()
        self._dept_of_topic = {self.topics.department(d): d for d in city.departments}
        self.dead = DeadLetters(settings, source="/dispatch/webhooks")

    async def run(self) -> None:
        """Consume and deliver until cancelled."""
        async with httpx.AsyncClient(timeout=self.settings.webhook_timeout_seconds) as http:
            retry = asyncio.create_task(self._retry_loop(http))
            try:
                await self._consume()
            finally:
                retry.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await retry
                for task in list(self._inflight):
                    task.cancel()

    async def _consume(self) -> None:
        consumer = AIOKafkaConsumer(
            *self._dept_of_topic,
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=f"{self.settings.topic_prefix}dispatch-webhooks",
            enable_auto_commit=False,
            auto_offset_reset=self.offset_reset,
            metadata_max_age_ms=5000,
        )
        await consumer.start()
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=200, max_records=500)
                if consumer.assignment():
                    self.ready.set()
                if not batches:
                    continue
                refused: list[KafkaRecord] = []
                for tp, records in batches.items():
                    department = self._dept_of_topic.get(tp.topic)
                    if department is None:
                        continue
                    for record in records:
                        try:
                            event = read_task(record.value, record.headers)
                        except DecodeError as exc:
                            log.warning("dead letter %s@%s: %s", tp, record.offset, exc)
                            refused.append(self.dead.record(str(exc), record))
                            continue
                        await self.enqueue(department, event)
                if refused:  # acknowledged before the offsets move past them
                    await self.dead.publish(refused)
                await consumer.commit()
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()
            await self.dead.stop()

    async def enqueue(self, department: str, event: CloudEvent) -> str | None:
        """Record one queue record as a pending delivery if the department has a webhook;
        return the delivery (event) id, or None when nothing is to be sent."""
        hook_blob = await self.redis.get(self.keys.webhook(department))
        if hook_blob is None:
            return None
        hook = orjson.loads(hook_blob)
        wanted = hook.get("event_types") or []
        if wanted and event.type not in wanted:
            return None
        body = {
            "specversion": "1.0",
            "id": event.id,
            "type": event.type,
            "source": event.source,
            "time": event.time.isoformat(),
            "subject": event.subject,
            "datacontenttype": "application/json",
            "data": dict(event.data),
        }
        now = time.time()
        delivery = {
            "event_id": event.id,
            "department": department,
            "matter_id": event.subject,
            "type": event.type,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
            "last_status_code": None,
            "last_error": None,
            "body": body,
        }
        key = self.keys.webhook_delivery(department, event.id)
        fresh = await self.redis.set(key, orjson.dumps(delivery), nx=True, ex=DELIVERY_TTL_SECONDS)
        if not fresh:
            return event.id  # a re-consumed record: already scheduled or delivered
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(self.keys.webhook_log(department), event.id)
            pipe.ltrim(self.keys.webhook_log(department), 0, LOG_LENGTH - 1)
            pipe.zadd(self.keys.webhook_retry(), {f"{department} {event.id}": now})
            await pipe.execute()
        return event.id

    async def _retry_loop(self, http: httpx.AsyncClient) -> None:
        while True:
            try:
                await self.deliver_due(http)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook retry loop failed; continuing")
            await asyncio.sleep(self.poll_seconds)

    async def deliver_due(self, http: httpx.AsyncClient) -> int:
        """Claim every delivery that is due and start sending it; return how many."""
        due = await self.redis.zrangebyscore(
            self.keys.webhook_retry(), "-inf", time.time(), start=0, num=100
        )
        started = 0
        for member in due:
            text = member.decode() if isinstance(member, bytes) else str(member)
            if not await self.redis.zrem(self.keys.webhook_retry(), text):
                continue  # another process claimed it
            department, _, event_id = text.partition(" ")
            task = asyncio.create_task(self._attempt(http, department, event_id))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
            started += 1
        return started

    async def _attempt(self, http: httpx.AsyncClient, department: str, event_id: str) -> None:
        key = self.keys.webhook_delivery(department, event_id)
        async with self._slots:
            blob = await self.redis.get(key)
            if blob is None:
                return
            delivery = orjson.loads(blob)
            hook_blob = await self.redis.get(self.keys.webhook(department))
            if hook_blob is None:
                delivery.update(status="skipped", last_error="the webhook was removed")
                await self.redis.set(key, orjson.dumps(delivery), keepttl=True)
                return
            hook = orjson.loads(hook_blob)
            payload = orjson.dumps(delivery["body"])
            headers = {
                "Content-Type": "application/cloudevents+json",
                "X-Gridhub-Event": str(delivery.get("type")),
                "X-Gridhub-Delivery": event_id,
            }
            if hook.get("secret"):
                headers["X-Gridhub-Signature"] = signature(hook["secret"], payload)
            delivery["attempts"] = int(delivery.get("attempts", 0)) + 1
            try:
                response = await http.post(hook["url"], content=payload, headers=headers)
                delivery["last_status_code"] = response.status_code
                ok = 200 <= response.status_code < 300
                delivery["last_error"] = None if ok else f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                ok = False
                delivery["last_error"] = f"{type(exc).__name__}: {exc}"[:300]
            now = time.time()
            delivery["last_attempt_at"] = now
            if ok:
                delivery.update(status="delivered", delivered_at=now, next_attempt_at=None)
            elif delivery["attempts"] >= self.settings.webhook_max_attempts:
                delivery.update(status="failed", next_attempt_at=None)
            else:
                nxt = now + backoff(self.settings, delivery["attempts"])
                delivery.update(status="retrying", next_attempt_at=nxt)
            await self.redis.set(key, orjson.dumps(delivery), keepttl=True)
            if delivery["status"] == "retrying":
                member = f"{department} {event_id}"
                await self.redis.zadd(
                    self.keys.webhook_retry(), {member: delivery["next_attempt_at"]}
                )

"""Push-dispatch: records of dept.<code> are POSTed to the department's webhook, retried
with backoff, signed, and their status is visible through the API; unreadable records go
to the dead-letter topic and delivery goes on."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from collections.abc import AsyncIterator, Iterator

import orjson
import pytest
import redis.asyncio as aioredis
from kafka import KafkaProducer

from dispatch.webhooks import WebhookDeliverer, backoff
from gridhub.citydata import load_city
from gridhub.cloudevents import CloudEvent, decode, encode
from gridhub.settings import Settings
from gridhub.topics import Topics
from tests.dispatch.conftest import Call
from tests.support.kafka_topics import read_all
from tests.support.webhook_receiver import Receiver

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver([500, 503])
    yield r
    r.close()


@pytest.fixture
async def deliverer(
    settings: Settings, topics: Topics, redis_client: aioredis.Redis
) -> AsyncIterator[WebhookDeliverer]:
    fast = settings.model_copy(
        update={"webhook_base_delay_seconds": 0.1, "webhook_max_attempts": 3}
    )
    d = WebhookDeliverer(fast, load_city(settings.city_file), redis_client, poll_seconds=0.05)
    task = asyncio.create_task(d.run())
    async with asyncio.timeout(30):
        await d.ready.wait()
    yield d
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def publish(settings: Settings, topic: str, matter_id: str) -> str:
    event = CloudEvent.new(
        "dept.task", 1, source="/streams", subject=matter_id, data={"matter_id": matter_id}
    )
    record = encode(event)
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    producer.send(topic, key=record.key, value=record.value, headers=record.headers)
    producer.flush()
    producer.close()
    return event.id


async def wait_status(call: Call, who: str, code: str, event_id: str, status: str) -> dict:
    async with asyncio.timeout(20):
        while True:
            r = await call(who, "GET", f"/v1/departments/{code}/webhook/deliveries")
            for d in r.json()["items"]:
                if d["event_id"] == event_id and d["status"] == status:
                    return d
            await asyncio.sleep(0.1)


def test_backoff_doubles(settings: Settings) -> None:
    s = settings.model_copy(update={"webhook_base_delay_seconds": 1.0})
    assert [backoff(s, n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert backoff(s, 40) == 3600.0


async def test_delivery_with_retries_signature_and_status(
    call: Call,
    settings: Settings,
    topics: Topics,
    receiver: Receiver,
    deliverer: WebhookDeliverer,
) -> None:
    secret = "s3cret-s3cret-s3cret"
    r = await call(
        "dept", "PUT", "/v1/departments/ZJJ/webhook", json={"url": receiver.url, "secret": secret}
    )
    assert r.status_code == 200 and r.json()["has_secret"] is True and "secret" not in r.json()
    event_id = publish(settings, topics.department("ZJJ"), "M1")
    publish(settings, topics.department("GAJ"), "M2")  # GAJ has no webhook: nothing is sent

    done = await wait_status(call, "dept", "ZJJ", event_id, "delivered")
    assert done["attempts"] == 3 and done["last_status_code"] == 200
    assert len(receiver.requests) == 3
    headers, body = receiver.requests[-1]
    assert headers["Content-Type"] == "application/cloudevents+json"
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Gridhub-Signature"] == expected
    doc = orjson.loads(body)
    assert (doc["id"], doc["subject"], doc["data"]) == (event_id, "M1", {"matter_id": "M1"})
    r = await call("operator", "GET", "/v1/departments/ZJJ/webhook/deliveries?status=delivered")
    assert [d["event_id"] for d in r.json()["items"]] == [event_id]


async def test_delivery_fails_after_max_attempts(
    call: Call, settings: Settings, topics: Topics, deliverer: WebhookDeliverer
) -> None:
    r = await call(
        "dept", "PUT", "/v1/departments/ZJJ/webhook", json={"url": "http://127.0.0.1:9/unreachable"}
    )
    assert r.status_code == 200
    event_id = publish(settings, topics.department("ZJJ"), "M9")
    failed = await wait_status(call, "dept", "ZJJ", event_id, "failed")
    assert failed["attempts"] == 3 and failed["last_error"]


async def test_webhook_registration_scope(call: Call, topics: Topics) -> None:
    hook = {"url": "https://dept.example/hook"}
    assert (
        await call("dept_out", "PUT", "/v1/departments/ZJJ/webhook", json=hook)
    ).status_code == 404
    assert (
        await call("township", "PUT", "/v1/departments/ZJJ/webhook", json=hook)
    ).status_code == 403
    assert (await call("dept", "GET", "/v1/departments/ZJJ/webhook")).status_code == 404
    assert (
        await call("operator", "PUT", "/v1/departments/ZJJ/webhook", json=hook)
    ).status_code == 200
    assert (await call("auditor", "GET", "/v1/departments/ZJJ/webhook")).status_code == 200
    r = await call("dept", "PUT", "/v1/departments/ZJJ/webhook", json={"url": "ftp://x"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "url"
    assert (await call("dept", "DELETE", "/v1/departments/ZJJ/webhook")).status_code == 204
    assert (await call("dept", "DELETE", "/v1/departments/ZJJ/webhook")).status_code == 404


async def test_poison_records_are_dead_lettered_and_delivery_goes_on(
    call: Call, settings: Settings, topics: Topics, deliverer: WebhookDeliverer
) -> None:
    receiver = Receiver([])
    try:
        r = await call("dept", "PUT", "/v1/departments/ZJJ/webhook", json={"url": receiver.url})
        assert r.status_code == 200
        future = encode(CloudEvent.new("dept.task", 99, source="/x", subject="M", data={}))
        alert = encode(CloudEvent.new("alert", 1, source="/x", subject="M", data={}))
        poison = [  # (topic, value, headers, what the reason must name)
            (topics.department("ZJJ"), b"\xff not json", [], "ce_specversion"),
            (topics.department("ZJJ"), None, [], "ce_specversion"),  # a tombstone
            (topics.department("ZJJ"), future.value, future.headers, "from the future"),
            (topics.department("GAJ"), b"{}", [("ce_specversion", b"0.3")], "got '0.3'"),
            (topics.department("GAJ"), alert.value, alert.headers, "not gridhub.dept.task.v1"),
        ]
        producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
        sent = {}
        for topic, value, headers, reason in poison:
            meta = producer.send(topic, key=b"M-P", value=value, headers=headers).get(10)
            sent[f"dl:{topic}:{meta.partition}:{meta.offset}"] = reason
        producer.close()
        good = publish(settings, topics.department("ZJJ"), "M-GOOD")  # after the poison

        done = await wait_status(call, "dept", "ZJJ", good, "delivered")
        assert done["matter_id"] == "M-GOOD" and len(receiver.requests) == 1
        dead = [decode(r.value, r.headers) for r in read_all(settings, topics.dead_letter, 5)]
        assert sorted(d.id for d in dead) == sorted(sent)
        for d in dead:
            assert d.source == "/dispatch/webhooks"
            assert sent[d.id] in d.data["reason"], (sent[d.id], d.data["reason"])
    finally:
        receiver.close()

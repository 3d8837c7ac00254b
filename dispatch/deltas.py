"""Publishing Deltas (gridhub.views.Delta) to ``wallboard.updates`` for the gateway.

The record is a CloudEvent ``gridhub.wallboard.delta.v1`` whose body is the Delta; the
gateway routes a command Delta by its ``data.targets`` (and an ack by ``data.target``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiokafka.errors import KafkaError

from dispatch.deps import Services
from dispatch.errors import ApiError
from gridhub.cloudevents import CloudEvent, encode, register

DELTA_EVENT = "wallboard.delta"
DELTA_VERSION = 1
register(DELTA_EVENT, DELTA_VERSION)

CITY_SCOPE: dict[str, Any] = {"township": "", "village": "", "grid": "", "departments": []}


async def publish_delta(
    svc: Services, kind: str, data: dict[str, Any], key: str, event_id: str
) -> None:
    """Publish one Delta of ``kind`` carrying ``data``; 503 when Kafka does not take it."""
    delta = {
        "kind": kind,
        "scope": dict(CITY_SCOPE),
        "at": datetime.now(UTC).isoformat(),
        "data": data,
    }
    event = CloudEvent.new(
        DELTA_EVENT, DELTA_VERSION, source="/dispatch", subject=key, id=event_id, data=delta
    )
    record = encode(event)
    try:
        await svc.bus.producer.send_and_wait(
            svc.topics.wallboard, value=record.value, key=record.key, headers=record.headers
        )
    except KafkaError as exc:
        raise ApiError(
            503,
            "unavailable",
            "the wallboard update could not be published",
            None,
            {"Retry-After": "5"},
        ) from exc

"""The CloudEvents streams/ publishes, one builder per output topic.

| topic               | type                          | id (deterministic)         | key       |
|---------------------|-------------------------------|----------------------------|-----------|
| matters.events      | gridhub.matter.event.v1       | event id ``M:version:seq`` | matter id |
| dept.<code>         | gridhub.dept.task.v1          | ``M:version:<dept>``       | matter id |
| alerts              | gridhub.alert.v1              | alert id (warning id)      | matter id |
| wallboard.updates   | gridhub.wallboard.delta.v1    | ``M:version:wb``           | matter id |
| deadletter          | gridhub.deadletter.v1         | ``dl:<topic>:<p>:<offset>``| original  |

Ids are derived from the input, so a record re-sent after a crash carries the same id and a
consumer de-duplicates by ``ce_id`` (delivery is at-least-once, see :mod:`streams.app`).

Dead letters: the body is ``{"reason", "topic", "partition", "offset", "key_b64",
"value_b64", "headers": [[name, value_b64], ...]}`` — the original record, byte for byte,
plus why it was refused; the reason is also in the ``ce_reason`` header.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from gridhub.cloudevents import CloudEvent, KafkaRecord, encode, register
from gridhub.domain.events import Event

SOURCE = "/streams"
MATTER_EVENT = register("matter.event", 1)
DEPT_TASK = register("dept.task", 1)
ALERT = register("alert", 1)
WALLBOARD_DELTA = register("wallboard.delta", 1)
DEAD_LETTER = register("deadletter", 1)


def _record(
    name: str,
    data: Mapping[str, Any],
    *,
    id: str,
    subject: str | None,
    time: datetime | None = None,
    extensions: Mapping[str, str] | None = None,
) -> KafkaRecord:
    return encode(
        CloudEvent.new(
            name,
            1,
            source=SOURCE,
            data=data,
            subject=subject,
            id=id,
            time=time,
            extensions=extensions,
        )
    )


def event_record(event: Event, data: Mapping[str, Any]) -> KafkaRecord:
    """The audit record of one domain event (``data`` = ``event_to_dict(event)``)."""
    return _record(
        "matter.event",
        data,
        id=event.event_id,
        subject=event.matter_id,
        time=event.at,
        extensions={"actor": event.actor.user_id, "eventtype": event.type},
    )


def task_record(
    matter_id: str, version: int, department: str, task: Mapping[str, Any]
) -> KafkaRecord:
    """A department's task (or task update) for its ``dept.<code>`` queue."""
    return _record(
        "dept.task",
        task,
        id=f"{matter_id}:{version}:{department}",
        subject=matter_id,
        extensions={"department": department},
    )


def alert_record(alert: Mapping[str, Any]) -> KafkaRecord:
    """One :class:`~gridhub.views.AlertMessage` for the ``alerts`` topic."""
    return _record("alert", alert, id=str(alert["id"]), subject=str(alert["matter_id"]))


def delta_record(delta: Mapping[str, Any], id: str, subject: str | None) -> KafkaRecord:
    """One :class:`~gridhub.views.Delta` for ``wallboard.updates``."""
    return _record("wallboard.delta", delta, id=id, subject=subject)


def _b64(raw: bytes | None) -> str | None:
    return base64.b64encode(raw).decode() if raw is not None else None


def dead_letter_record(
    reason: str,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
) -> KafkaRecord:
    """The dead-letter record of a refused input record (see the module doc)."""
    data = {
        "reason": reason,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "key_b64": _b64(key),
        "value_b64": _b64(value),
        "headers": [[name, _b64(bytes(raw))] for name, raw in headers],
    }
    record = _record(
        "deadletter",
        data,
        id=f"dl:{topic}:{partition}:{offset}",
        subject=None,
        time=datetime.now(UTC),
        extensions={"reason": reason[:500].replace("\n", " ")},
    )
    return KafkaRecord(key=key, value=record.value, headers=record.headers)

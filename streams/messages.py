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

Dead letters: the format is :mod:`gridhub.deadletter`'s (one for every consumer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from gridhub import deadletter
from gridhub.cloudevents import CONTENT_TYPE, SPEC_VERSION, KafkaRecord, register
from gridhub.domain.events import Event

SOURCE = "/streams"
MATTER_EVENT = register("matter.event", 1)
DEPT_TASK = register("dept.task", 1)
ALERT = register("alert", 1)
WALLBOARD_DELTA = register("wallboard.delta", 1)
DEAD_LETTER = deadletter.DEAD_LETTER

# The headers of ``gridhub.cloudevents.encode`` in its order; the constant ones are built
# once (this runs ~6 times per matter on the worker's hot path).
_SPEC = ("ce_specversion", SPEC_VERSION.encode())
_SOURCE = ("ce_source", SOURCE.encode())
_CONTENT = ("content-type", CONTENT_TYPE.encode())
_TYPES = {
    name: ("ce_type", full.encode())
    for name, full in (
        ("matter.event", MATTER_EVENT),
        ("dept.task", DEPT_TASK),
        ("alert", ALERT),
        ("wallboard.delta", WALLBOARD_DELTA),
    )
}


def now_iso() -> bytes:
    """``ce_time`` of a record made now (one per batch is enough: ids carry the identity)."""
    return datetime.now(UTC).isoformat().encode()


def _record(
    name: str,
    data: Mapping[str, Any] | bytes,
    *,
    id: str,
    subject: str | None,
    time: datetime | bytes | None = None,
    extra: tuple[tuple[str, bytes], ...] = (),
) -> KafkaRecord:
    """What ``encode(CloudEvent.new(name, 1, source=SOURCE, ...))`` gives, without the
    intermediate objects; ``data`` may already be its JSON bytes, ``extra`` holds the
    extension headers (``ce_<name>``, value) in order."""
    if time is None:
        stamp = now_iso()
    else:
        stamp = time if isinstance(time, bytes) else time.isoformat().encode()
    headers = [_SPEC, ("ce_id", id.encode()), _SOURCE, _TYPES[name], ("ce_time", stamp), _CONTENT]
    key = None
    if subject is not None:
        key = subject.encode()
        headers.append(("ce_subject", key))
    headers += extra
    body = data if isinstance(data, bytes) else orjson.dumps(data)
    return KafkaRecord(key, body, headers)


def event_record(event: Event, data: Mapping[str, Any] | bytes) -> KafkaRecord:
    """The audit record of one domain event (``data`` = ``event_to_dict(event)`` or its JSON,
    :func:`streams.codec.event_bytes`)."""
    return _record(
        "matter.event",
        data,
        id=event.event_id,
        subject=event.matter_id,
        time=event.at,
        extra=(("ce_actor", event.actor.user_id.encode()), ("ce_eventtype", event.type.encode())),
    )


def task_record(
    matter_id: str,
    version: int,
    department: str,
    task: Mapping[str, Any],
    time: bytes | None = None,
) -> KafkaRecord:
    """A department's task (or task update) for its ``dept.<code>`` queue."""
    return _record(
        "dept.task",
        task,
        id=f"{matter_id}:{version}:{department}",
        subject=matter_id,
        time=time,
        extra=(("ce_department", department.encode()),),
    )


def alert_record(alert: Mapping[str, Any], time: bytes | None = None) -> KafkaRecord:
    """One :class:`~gridhub.views.AlertMessage` for the ``alerts`` topic."""
    return _record("alert", alert, id=str(alert["id"]), subject=str(alert["matter_id"]), time=time)


def delta_record(
    delta: Mapping[str, Any], id: str, subject: str | None, time: bytes | None = None
) -> KafkaRecord:
    """One :class:`~gridhub.views.Delta` for ``wallboard.updates``."""
    return _record("wallboard.delta", delta, id=id, subject=subject, time=time)


def dead_letter_record(
    reason: str,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
) -> KafkaRecord:
    """The worker's dead letter of a refused input record (:mod:`gridhub.deadletter`)."""
    return deadletter.dead_letter_record(
        reason, topic, partition, offset, key, value, headers, source=SOURCE
    )

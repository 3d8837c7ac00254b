"""CloudEvents 1.0 in Kafka binary mode: ``ce_*`` headers and a JSON body.

Every gridhub message on Kafka is one :class:`CloudEvent`. A department's own system can
read its queue with kcat or any Kafka client: the headers say what the body is.

    record = encode(CloudEvent.new("matter.intake", 1, source="/intake/app", data={...}))
    producer.send(topic, key=record.key, value=record.value, headers=record.headers)
    event = decode(value, headers)          # raises DecodeError with a reason

Types are versioned: ``gridhub.<name>.v<N>``. :func:`decode` refuses a version newer than
the reader knows (see :data:`KNOWN_VERSIONS`) so a poison record can go to the dead-letter
topic with that reason instead of being misread.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

SPEC_VERSION = "1.0"
TYPE_PREFIX = "gridhub."
CONTENT_TYPE = "application/json"
_TYPE_RE = re.compile(r"^gridhub\.([a-z][a-z0-9_.]*)\.v([0-9]+)$")

#: The newest version of each event name this code can read; newer ones are refused.
KNOWN_VERSIONS: dict[str, int] = {}

Headers = Sequence[tuple[str, bytes]]


class DecodeError(ValueError):
    """A record is not a readable gridhub CloudEvent; ``str(err)`` is the reason."""


def register(name: str, version: int) -> str:
    """Declare that this code reads ``name`` up to ``version``; returns the full type string."""
    KNOWN_VERSIONS[name] = max(version, KNOWN_VERSIONS.get(name, 0))
    return f"{TYPE_PREFIX}{name}.v{version}"


@dataclass(frozen=True, slots=True)
class CloudEvent:
    """One event: the CloudEvents context attributes plus a JSON-able ``data`` dict."""

    id: str
    type: str
    source: str
    time: datetime
    data: Mapping[str, Any]
    subject: str | None = None
    extensions: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def new(
        cls,
        name: str,
        version: int,
        *,
        source: str,
        data: Mapping[str, Any],
        subject: str | None = None,
        id: str | None = None,
        time: datetime | None = None,
        extensions: Mapping[str, str] | None = None,
    ) -> CloudEvent:
        """Make an event of type ``gridhub.<name>.v<version>``; id and time default to fresh."""
        return cls(
            id=id or uuid.uuid4().hex,
            type=f"{TYPE_PREFIX}{name}.v{version}",
            source=source,
            time=time or datetime.now(UTC),
            data=data,
            subject=subject,
            extensions=dict(extensions or {}),
        )

    @property
    def name(self) -> str:
        """The event name without prefix and version, e.g. ``matter.intake``."""
        return _parse_type(self.type)[0]

    @property
    def version(self) -> int:
        return _parse_type(self.type)[1]


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """What to hand a Kafka producer: key (the subject), value (the JSON body) and headers."""

    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def _parse_type(type_: str) -> tuple[str, int]:
    match = _TYPE_RE.match(type_)
    if not match:
        raise DecodeError(f"ce_type {type_!r} is not of the form gridhub.<name>.v<N>")
    return match.group(1), int(match.group(2))


def encode(event: CloudEvent) -> KafkaRecord:
    """Encode an event for Kafka in binary mode; the key is the subject (the matter id)."""
    headers = [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("ce_id", event.id.encode()),
        ("ce_source", event.source.encode()),
        ("ce_type", event.type.encode()),
        ("ce_time", event.time.isoformat().encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
    if event.subject is not None:
        headers.append(("ce_subject", event.subject.encode()))
    headers.extend((f"ce_{k}", v.encode()) for k, v in event.extensions.items())
    key = event.subject.encode() if event.subject is not None else None
    return KafkaRecord(key=key, value=orjson.dumps(event.data), headers=headers)


def decode(value: bytes | None, headers: Iterable[tuple[str, bytes]] | None) -> CloudEvent:
    """Decode a Kafka record into an event; raise :class:`DecodeError` saying what is wrong."""
    attrs: dict[str, str] = {}
    content_type = None
    for name, raw in headers or ():
        try:
            text = raw.decode() if isinstance(raw, bytes | bytearray) else str(raw)
        except UnicodeDecodeError:
            raise DecodeError(f"header {name!r} is not UTF-8") from None
        if name == "content-type":
            content_type = text
        elif name.startswith("ce_"):
            attrs[name[3:]] = text
    if attrs.get("specversion") != SPEC_VERSION:
        raise DecodeError(
            f"ce_specversion must be {SPEC_VERSION!r}, got {attrs.get('specversion')!r}"
        )
    for required in ("id", "type", "source"):
        if not attrs.get(required):
            raise DecodeError(f"header ce_{required} is missing")
    if content_type is not None and not content_type.startswith(CONTENT_TYPE):
        raise DecodeError(f"content-type {content_type!r} is not {CONTENT_TYPE}")
    name, version = _parse_type(attrs["type"])
    known = KNOWN_VERSIONS.get(name)
    if known is not None and version > known:
        raise DecodeError(
            f"schema version from the future: {attrs['type']} (this reader knows v{known})"
        )
    if value is None:
        raise DecodeError("record has no body")
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DecodeError("body must be a JSON object")
    try:
        time = datetime.fromisoformat(attrs["time"]) if "time" in attrs else datetime.now(UTC)
    except ValueError:
        raise DecodeError(f"ce_time {attrs['time']!r} is not RFC 3339") from None
    standard = {"specversion", "id", "type", "source", "time", "subject"}
    return CloudEvent(
        id=attrs["id"],
        type=attrs["type"],
        source=attrs["source"],
        time=time,
        data=data,
        subject=attrs.get("subject"),
        extensions={k: v for k, v in attrs.items() if k not in standard},
    )

"""The wallboard WebSocket protocol: JSON text frames, parsed and validated here (pure code).

Client → server::

    {"type": "hello", "token": "ghk_...", "hub": {"kind": "township", "code": "T01"},
     "last_seq": "1732800000000-0" | null, "lang": "zh" | "en"}      # first frame, once
    {"type": "ack", "command_id": "..."}                            # acknowledge a command
    {"type": "pong"}                                                # app-level heartbeat

Server → client::

    {"type": "snapshot", "seq": S, "reason": "connect|resync|trimmed", "hub": {...}, ...}
    {"type": "delta", "seq": S, "delta": Delta}
    {"type": "deltas", "seq": S_last, "items": [{"seq": S, "delta": Delta}, ...],
     "coalesced": n, "replay": bool}
    {"type": "summary", ...}           # aggregates refreshed (KPIs, units, ranking, trend)
    {"type": "ack_result", "command_id": "...", "ok": bool, "via": "dispatch|gateway"}
    {"type": "error", "code": "...", "message": "..."}

Sequence numbers are the Redis stream ids of the deltas (``<ms>-<n>``): opaque to the client,
totally ordered, shared by every gateway process. A client keeps the ``seq`` of the last
frame it applied and sends it as ``last_seq`` when it reconnects.

Command deltas (published by dispatch/) carry ``data``::

    kind="command":     {"command_id", "text", "issued_by", "issued_at", "ack_due_at",
                         "targets": [{"kind": "township|village|department", "code"}]}
    kind="command_ack": {"command_id", "target": {"kind", "code"}, "user", "acked_at"}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import orjson

HubKind = Literal["city", "township", "village", "department"]
HUB_KINDS: tuple[str, ...] = ("city", "township", "village", "department")
MAX_CLIENT_FRAME = 16 * 1024
_SEQ_RE = re.compile(r"^([0-9]{1,20})-([0-9]{1,20})$")
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


class ProtocolError(ValueError):
    """A client frame is not valid; ``code`` is machine-readable, ``str(err)`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class HubRef:
    """A hub a client asks to watch (not yet checked against the city or the token)."""

    kind: HubKind
    code: str = ""

    @property
    def key(self) -> str:
        """The routing key of the hub: ``city``, ``township:T01``, ``department:ZJJ``..."""
        return "city" if self.kind == "city" else f"{self.kind}:{self.code}"


@dataclass(frozen=True, slots=True)
class Hello:
    token: str
    hub: HubRef
    last_seq: tuple[int, int] | None
    lang: str = "zh"


@dataclass(frozen=True, slots=True)
class Ack:
    command_id: str


@dataclass(frozen=True, slots=True)
class Pong:
    pass


ClientMessage = Hello | Ack | Pong


def parse_seq(value: object) -> tuple[int, int] | None:
    """A stream id ``"<ms>-<n>"`` as a comparable tuple; None for anything else."""
    if not isinstance(value, str):
        return None
    match = _SEQ_RE.match(value)
    return (int(match.group(1)), int(match.group(2))) if match else None


def format_seq(seq: tuple[int, int]) -> str:
    """The wire form of a sequence tuple."""
    return f"{seq[0]}-{seq[1]}"


def _hub(value: object) -> HubRef:
    if not isinstance(value, dict):
        raise ProtocolError("bad_hub", "hub must be an object with kind and code")
    kind, code = value.get("kind"), value.get("code", "")
    if kind not in HUB_KINDS:
        raise ProtocolError("bad_hub", f"hub.kind must be one of {', '.join(HUB_KINDS)}")
    if not isinstance(code, str):
        raise ProtocolError("bad_hub", "hub.code must be a string")
    if kind == "city":
        if code:
            raise ProtocolError("bad_hub", "the city hub takes no code")
        return HubRef("city", "")
    if not _CODE_RE.match(code):
        raise ProtocolError("bad_hub", "hub.code is missing or malformed")
    return HubRef(kind, code)


def parse_client_frame(raw: str | bytes) -> ClientMessage:
    """Parse and validate one client frame; raise :class:`ProtocolError` saying what is wrong."""
    if len(raw) > MAX_CLIENT_FRAME:
        raise ProtocolError("too_large", f"frames are limited to {MAX_CLIENT_FRAME} bytes")
    try:
        msg = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ProtocolError("bad_json", "frame is not JSON") from None
    if not isinstance(msg, dict):
        raise ProtocolError("bad_frame", "frame must be a JSON object")
    kind = msg.get("type")
    if kind == "hello":
        token = msg.get("token")
        if not isinstance(token, str) or not token or len(token) > 200:
            raise ProtocolError("bad_token", "hello.token must be a non-empty string")
        last = msg.get("last_seq")
        seq = parse_seq(last)
        if last is not None and seq is None:
            raise ProtocolError("bad_seq", "last_seq must be a sequence id like '123-0' or null")
        lang = msg.get("lang", "zh")
        return Hello(token, _hub(msg.get("hub")), seq, lang if lang in ("zh", "en") else "zh")
    if kind == "ack":
        command_id = msg.get("command_id")
        if not isinstance(command_id, str) or not _ID_RE.match(command_id):
            raise ProtocolError("bad_command_id", "ack.command_id is missing or malformed")
        return Ack(command_id)
    if kind == "pong":
        return Pong()
    raise ProtocolError("unknown_type", "type must be hello, ack or pong")


def dumps(frame: dict[str, Any]) -> str:
    """Encode a server frame as a JSON text frame."""
    return orjson.dumps(frame).decode()


def error_frame(code: str, message: str) -> str:
    """The frame telling a client that something it sent was refused."""
    return dumps({"type": "error", "code": code, "message": message})


def delta_frame(seq: str, delta: dict[str, Any]) -> str:
    """One live delta."""
    return dumps({"type": "delta", "seq": seq, "delta": delta})


def deltas_frame(
    items: list[tuple[str, dict[str, Any]]],
    *,
    seq: str | None = None,
    coalesced: int = 0,
    replay: bool = False,
) -> str:
    """A batch of deltas in order; ``seq`` defaults to the last item's (a replay that found
    nothing for this hub still moves the client's position on); ``coalesced`` = merged away."""
    return dumps(
        {
            "type": "deltas",
            "seq": seq or (items[-1][0] if items else None),
            "items": [{"seq": s, "delta": d} for s, d in items],
            "coalesced": coalesced,
            "replay": replay,
        }
    )

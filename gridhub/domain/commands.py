"""Commands: what someone (or a timer) asks to happen to one matter.

Every command names its ``matter_id``, its :class:`Actor` and the instant ``at`` (tz-aware).
``command_id`` is optional and is echoed on the resulting events, so a hub that issued a
one-click command can see its acknowledgement. Commands travel over Kafka as JSON dicts with
a ``"type"`` field::

    d = command_to_dict(SignFor(matter_id="M1", actor=actor, at=now))
    cmd = command_from_dict(d)        # a Command, or an InvalidCommand with the reason
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal

from gridhub.domain.codec import CodecError, from_dict, to_jsonable
from gridhub.domain.matter import Owner, Rating, ReporterInfo

Role = Literal[
    "city_operator",
    "supervisor",
    "leader",
    "township_hub",
    "village_hub",
    "department",
    "grid_worker",
    "auditor",
    "citizen",
    "system",
]
ScopeKind = Literal["city", "township", "village", "department", "grid", "none"]


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Who issues a command: a user with a role, acting within one unit (scope)."""

    user_id: str
    role: Role
    scope_kind: ScopeKind = "none"
    scope_code: str = ""


SYSTEM = Actor(user_id="system", role="system", scope_kind="city", scope_code="")


@dataclass(frozen=True, kw_only=True)
class Command:
    """Fields every command has. ``type`` is the wire name."""

    type: ClassVar[str] = "command"
    matter_id: str
    actor: Actor
    at: datetime
    command_id: str = ""


@dataclass(frozen=True, kw_only=True)
class Accept(Command):
    """受理: the matter exists.

    A patrol matter ``solved_on_spot`` is resolved and closed at once.
    """

    type: ClassVar[str] = "accept"
    source: str
    source_id: str
    received_at: datetime
    category: str
    grid: str
    description: str
    urgency: str = "normal"
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    reporter: ReporterInfo | None = None
    attachments: tuple[str, ...] = ()
    worker_id: str | None = None
    solved_on_spot: bool = False
    result: str | None = None


@dataclass(frozen=True, kw_only=True)
class Assign(Command):
    """派单: give the matter to one owner (a hub, the city platform, a department, a leader)."""

    type: ClassVar[str] = "assign"
    owner: Owner
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Forward(Command):
    """转办: the city platform forwards to departments; the first is primary, the rest co-handle."""

    type: ClassVar[str] = "forward"
    departments: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class SignFor(Command):
    """签收: the owner acknowledges receipt."""

    type: ClassVar[str] = "sign_for"


@dataclass(frozen=True, kw_only=True)
class AddProgress(Command):
    """办理: a progress note from the owner, a co-handler or the grid worker."""

    type: ClassVar[str] = "add_progress"
    note: str


@dataclass(frozen=True, kw_only=True)
class Resolve(Command):
    """办结: the owner says it is done."""

    type: ClassVar[str] = "resolve"
    result: str
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Return(Command):
    """退单: the owner sends it back to the city platform (wrong owner)."""

    type: ClassVar[str] = "return"
    reason: str


@dataclass(frozen=True, kw_only=True)
class ReportUp(Command):
    """上报: the owner cannot solve it; it goes one tier up."""

    type: ClassVar[str] = "report_up"
    reason: str


@dataclass(frozen=True, kw_only=True)
class RequestExtension(Command):
    """延期申请: the owner asks for a later resolve deadline."""

    type: ClassVar[str] = "request_extension"
    reason: str
    proposed_due: datetime


@dataclass(frozen=True, kw_only=True)
class DecideExtension(Command):
    """延期审批: a supervisor approves or refuses the pending extension."""

    type: ClassVar[str] = "decide_extension"
    approve: bool
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class Rate(Command):
    """满意度测评: the citizen's rating; not satisfied reopens the matter to its last owner."""

    type: ClassVar[str] = "rate"
    rating: Rating
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class Close(Command):
    """Close a resolved matter (final unless reopened)."""

    type: ClassVar[str] = "close"
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Reopen(Command):
    """Reopen a resolved or closed matter to its last owner."""

    type: ClassVar[str] = "reopen"
    reason: str


@dataclass(frozen=True, kw_only=True)
class Merge(Command):
    """Fold a duplicate into matter ``into`` (this one becomes ``merged``, final)."""

    type: ClassVar[str] = "merge"
    into: str


@dataclass(frozen=True, kw_only=True)
class Urge(Command):
    """催办: a reminder to the owner."""

    type: ClassVar[str] = "urge"
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Supervise(Command):
    """督办: put the matter under formal supervision."""

    type: ClassVar[str] = "supervise"
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class EscalateToLeader(Command):
    """重大疑难: a city leader takes the matter over."""

    type: ClassVar[str] = "escalate_to_leader"
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class Whistle(Command):
    """街乡吹哨: the township summons departments; each must report in by the deadline.

    ``report_in_due`` None means the category's report-in SLA from ``at``.
    """

    type: ClassVar[str] = "whistle"
    departments: tuple[str, ...]
    report_in_due: datetime | None = None
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class ReportIn(Command):
    """部门报到: a summoned department checks in."""

    type: ClassVar[str] = "report_in"
    department: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class DeadlineDue(Command):
    """A timer tick for one scheduled warning. Stale or repeated ticks produce nothing."""

    type: ClassVar[str] = "deadline_due"
    warning_id: str
    level: str
    kind: str
    generation: int


COMMAND_TYPES: dict[str, type[Command]] = {
    c.type: c
    for c in (
        Accept,
        Assign,
        Forward,
        SignFor,
        AddProgress,
        Resolve,
        Return,
        ReportUp,
        RequestExtension,
        DecideExtension,
        Rate,
        Close,
        Reopen,
        Merge,
        Urge,
        Supervise,
        EscalateToLeader,
        Whistle,
        ReportIn,
        DeadlineDue,
    )
}


@dataclass(frozen=True)
class InvalidCommand:
    """A dict that is not a valid command: ``reason`` says why. Turn it into a Rejected event."""

    reason: str
    command_type: str = ""
    matter_id: str = ""


def accept_from_intake(
    intake: Mapping[str, Any], at: datetime | None = None, actor: Actor = SYSTEM
) -> Accept | InvalidCommand:
    """The Accept command for an intake record: ``IntakeMatter.model_dump(mode="json")``.

    ``at`` (the acceptance time, when the clocks start) defaults to ``received_at``.
    """
    data: dict[str, Any] = {"type": Accept.type, **intake}
    data["actor"] = to_jsonable(actor)
    data["at"] = to_jsonable(at) if at is not None else intake.get("received_at")
    out = command_from_dict(data)
    if isinstance(out, Accept | InvalidCommand):
        return out
    return InvalidCommand("not an accept command", Accept.type)  # pragma: no cover


def command_to_dict(command: Command) -> dict[str, Any]:
    """JSON-able dict of ``command`` with its ``"type"``; :func:`command_from_dict` reads it."""
    return {"type": command.type, **to_jsonable(command)}


def command_from_dict(data: Any) -> Command | InvalidCommand:
    """Build a command from a JSON dict, or say clearly why it is not one (never raises)."""
    if not isinstance(data, Mapping):
        return InvalidCommand("a command must be a JSON object")
    ctype = data.get("type")
    raw_id = data.get("matter_id")
    matter_id = raw_id if isinstance(raw_id, str) else ""
    cls = COMMAND_TYPES.get(ctype) if isinstance(ctype, str) else None
    if cls is None:
        known = ", ".join(sorted(COMMAND_TYPES))
        return InvalidCommand(f"unknown command type {ctype!r}; one of {known}", "", matter_id)
    try:
        command: Command = from_dict(cls, data, "body", skip=("type",))
    except CodecError as exc:
        return InvalidCommand(str(exc), cls.type, matter_id)
    except Exception as exc:  # a decoder must never crash the stream
        return InvalidCommand(f"bad command: {exc}", cls.type, matter_id)
    return command

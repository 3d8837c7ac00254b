"""Events: what happened to a matter. The event stream is the audit record and the history.

Every event has ``matter_id``, ``actor``, ``at``, ``before_state`` and ``after_state`` ("" when
there was no matter yet or the event is not about a state), ``version`` (the matter's version
after the command; unchanged for :class:`Rejected`), ``owner`` (the holder afterwards) and the
``command_id`` it answers. :attr:`Event.event_id` is deterministic, so a re-applied command
produces the same ids (safe CloudEvent ids). ``event_to_dict`` / ``event_from_dict`` give the
JSON form with a ``"type"`` field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from gridhub.domain.codec import CodecError, from_dict, to_jsonable
from gridhub.domain.commands import Actor
from gridhub.domain.matter import Owner, Rating

GridAlertReason = Literal["near_deadline", "cannot_solve", "hotspot"]


@dataclass(frozen=True, kw_only=True)
class Event:
    """Fields of every event."""

    type: ClassVar[str] = "event"
    matter_id: str
    actor: Actor
    at: datetime
    before_state: str
    after_state: str
    version: int
    owner: Owner | None = None
    command_id: str = ""
    seq: int = 0

    @property
    def event_id(self) -> str:
        """Deterministic id: ``{matter_id}:{version}:{seq}`` (rejections add the command id)."""
        return f"{self.matter_id}:{self.version}:{self.seq}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form with ``"type"``."""
        return event_to_dict(self)


@dataclass(frozen=True, kw_only=True)
class Accepted(Event):
    type: ClassVar[str] = "accepted"
    source: str
    source_id: str
    category: str
    urgency: str
    grid: str
    village: str
    township: str
    description: str
    solved_on_spot: bool = False


@dataclass(frozen=True, kw_only=True)
class Assigned(Event):
    """The matter has a new owner (routing at intake, or a manual assignment)."""

    type: ClassVar[str] = "assigned"
    previous_owner: Owner | None
    tier: str
    deadlines: Mapping[str, datetime] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Forwarded(Event):
    type: ClassVar[str] = "forwarded"
    previous_owner: Owner | None
    primary: str
    co_handlers: tuple[str, ...]
    deadlines: Mapping[str, datetime] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class SignedFor(Event):
    type: ClassVar[str] = "signed_for"
    on_time: bool


@dataclass(frozen=True, kw_only=True)
class ProgressAdded(Event):
    type: ClassVar[str] = "progress_added"
    note: str


@dataclass(frozen=True, kw_only=True)
class Resolved(Event):
    type: ClassVar[str] = "resolved"
    result: str
    attachments: tuple[str, ...] = ()
    on_time: bool = True


@dataclass(frozen=True, kw_only=True)
class Returned(Event):
    type: ClassVar[str] = "returned"
    reason: str
    previous_owner: Owner
    deadlines: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ReportedUp(Event):
    type: ClassVar[str] = "reported_up"
    reason: str
    previous_owner: Owner
    co_handlers: tuple[str, ...] = ()
    deadlines: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ExtensionRequested(Event):
    type: ClassVar[str] = "extension_requested"
    reason: str
    proposed_due: datetime


@dataclass(frozen=True, kw_only=True)
class ExtensionDecided(Event):
    type: ClassVar[str] = "extension_decided"
    approve: bool
    new_due: datetime | None
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class Rated(Event):
    type: ClassVar[str] = "rated"
    rating: Rating
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class Reopened(Event):
    """Back to the last owner. ``was_on_time`` undoes the on-time count of the completion."""

    type: ClassVar[str] = "reopened"
    reason: str
    was_on_time: bool
    deadlines: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Closed(Event):
    type: ClassVar[str] = "closed"
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Merged(Event):
    """Folded into ``into``; ``was_on_time`` is set when the matter had been completed."""

    type: ClassVar[str] = "merged"
    into: str
    was_on_time: bool | None = None


@dataclass(frozen=True, kw_only=True)
class Urged(Event):
    type: ClassVar[str] = "urged"
    urge_count: int
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Supervised(Event):
    type: ClassVar[str] = "supervised"
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class EscalatedToLeader(Event):
    type: ClassVar[str] = "escalated_to_leader"
    previous_owner: Owner
    reason: str = ""
    deadlines: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Whistled(Event):
    type: ClassVar[str] = "whistled"
    departments: tuple[str, ...]
    report_in_due: datetime
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class ReportedIn(Event):
    type: ClassVar[str] = "reported_in"
    department: str
    on_time: bool
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Warning(Event):  # the domain's name for 预警 (shadows the builtin on purpose)
    """A deadline warning: level yellow, red (overdue) or escalate_<n>, for ``target``."""

    type: ClassVar[str] = "warning"
    level: str
    kind: str
    target: str
    due_at: datetime
    warning_id: str
    generation: int
    department: str | None = None


@dataclass(frozen=True, kw_only=True)
class GridAlert(Event):
    """网格预警 from the grid/village tier: near_deadline, cannot_solve or hotspot."""

    type: ClassVar[str] = "grid_alert"
    reason: GridAlertReason
    grid: str
    category: str
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class Rejected(Event):
    """A command that was not applied; the state is unchanged."""

    type: ClassVar[str] = "rejected"
    command_type: str
    reason: str

    @property
    def event_id(self) -> str:
        tag = self.command_id or self.at.isoformat()
        return f"{self.matter_id}:{self.version}:rejected:{self.command_type}:{tag}"


EVENT_TYPES: dict[str, type[Event]] = {
    c.type: c
    for c in (
        Accepted,
        Assigned,
        Forwarded,
        SignedFor,
        ProgressAdded,
        Resolved,
        Returned,
        ReportedUp,
        ExtensionRequested,
        ExtensionDecided,
        Rated,
        Reopened,
        Closed,
        Merged,
        Urged,
        Supervised,
        EscalatedToLeader,
        Whistled,
        ReportedIn,
        Warning,
        GridAlert,
        Rejected,
    )
}


def event_to_dict(event: Event) -> dict[str, Any]:
    """JSON-able dict of ``event`` with ``"type"`` and ``"event_id"``."""
    return {"type": event.type, "event_id": event.event_id, **to_jsonable(event)}


def event_from_dict(data: Mapping[str, Any]) -> Event:
    """Read an event back from :func:`event_to_dict`; raises ``CodecError`` with the reason."""
    cls = EVENT_TYPES.get(str(data.get("type")))
    if cls is None:
        raise CodecError(f"unknown event type {data.get('type')!r}")
    event: Event = from_dict(cls, data, "event", skip=("type", "event_id"))
    return event

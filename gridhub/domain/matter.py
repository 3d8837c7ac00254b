"""The state of one matter (事项): small, frozen, one row of the per-matter table.

Only :func:`gridhub.domain.machine.apply` builds new states (with ``dataclasses.replace``).
The full history is the event stream, not this record. Store it with :meth:`Matter.to_dict`
and read it back with :func:`matter_from_dict`. Mapping fields are plain dicts that are
never mutated in place: every change copies them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from gridhub.domain.codec import from_dict, to_jsonable
from gridhub.domain.hierarchy import Tier

OwnerKind = Literal["village", "township", "city", "department", "leader"]
Rating = Literal["satisfied", "basically_satisfied", "not_satisfied"]
RATINGS: tuple[Rating, ...] = ("satisfied", "basically_satisfied", "not_satisfied")


class State(StrEnum):
    """Life cycle: accepted → assigned → signed_for → in_progress → resolved → closed.

    ``merged`` (a duplicate folded into another matter) is final; ``closed`` is final
    unless reopened.
    """

    ACCEPTED = "accepted"
    ASSIGNED = "assigned"
    SIGNED_FOR = "signed_for"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    MERGED = "merged"


OPEN_STATES = frozenset({State.ACCEPTED, State.ASSIGNED, State.SIGNED_FOR, State.IN_PROGRESS})
WORKING_STATES = frozenset({State.SIGNED_FOR, State.IN_PROGRESS})
COMPLETED_STATES = frozenset({State.RESOLVED, State.CLOSED})


@dataclass(frozen=True, kw_only=True)
class Owner:
    """Who holds a matter: a village/township hub, the city platform, a department, a leader.

    ``code`` is the unit's code; for ``city`` and ``leader`` it is the city's code.
    """

    kind: OwnerKind
    code: str

    @property
    def tier(self) -> Tier:
        return Tier(self.kind)

    def __str__(self) -> str:
        return f"{self.kind}:{self.code}"


@dataclass(frozen=True, kw_only=True)
class ReporterInfo:
    """The citizen who reported (private: only roles that need it may see it)."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True, kw_only=True)
class Deadline:
    """One running clock. ``started_at`` is where the yellow share counts from."""

    due_at: datetime
    generation: int
    started_at: datetime


@dataclass(frozen=True, kw_only=True)
class WhistleTask:
    """A department summoned by a township whistle: it must report in by ``due_at``."""

    due_at: datetime
    generation: int
    started_at: datetime
    reported_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ExtensionRequest:
    """A pending request of the owner for a later resolve deadline."""

    requested_by: str
    reason: str
    proposed_due: datetime
    requested_at: datetime


@dataclass(frozen=True, kw_only=True)
class Matter:
    """One matter's current state. ``version`` is +1 per applied command."""

    id: str
    source: str
    source_id: str
    category: str
    urgency: str
    grid: str
    village: str
    township: str
    description: str
    owner: Owner
    tier: Tier
    state: State
    accepted_at: datetime
    received_at: datetime
    version: int = 1
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    reporter: ReporterInfo | None = None
    attachments: tuple[str, ...] = ()
    worker_id: str | None = None
    co_handlers: tuple[str, ...] = ()
    deadlines: Mapping[str, Deadline] = field(default_factory=dict)
    generations: Mapping[str, int] = field(default_factory=dict)
    fired_warnings: frozenset[str] = frozenset()
    whistle_tasks: Mapping[str, WhistleTask] = field(default_factory=dict)
    extension: ExtensionRequest | None = None
    supervised: bool = False
    urge_count: int = 0
    escalation_level: int = 0
    overdue: bool = False
    rating: Rating | None = None
    reopen_count: int = 0
    merged_into: str | None = None
    result: str | None = None
    result_attachments: tuple[str, ...] = ()
    resolved_on_time: bool | None = None
    signed_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        """Still being handled (not resolved, closed or merged)."""
        return self.state in OPEN_STATES

    @property
    def summoned(self) -> tuple[str, ...]:
        """Departments summoned by a whistle (reported in or not)."""
        return tuple(self.whistle_tasks)

    @property
    def departments(self) -> tuple[str, ...]:
        """Every department involved: owner (if a department), co-handlers, summoned."""
        out = [self.owner.code] if self.owner.kind == "department" else []
        for code in (*self.co_handlers, *self.whistle_tasks):
            if code not in out:
                out.append(code)
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for a table or a snapshot; :func:`matter_from_dict` reads it."""
        out: dict[str, Any] = to_jsonable(self)
        return out

    def to_public_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` without the private reporter, for boards and department queues."""
        out = self.to_dict()
        out["reporter"] = None
        return out


def evolve(matter: Matter, **changes: Any) -> Matter:
    """``dataclasses.replace(matter, **changes)`` without re-running ``__init__``.

    ``replace`` rebuilds all ~45 fields through the frozen ``__init__`` (one
    ``object.__setattr__`` each, ~15 µs); every field of :class:`Matter` is a plain init
    field (no ``__post_init__``, no defaults computed from others), so copying the instance
    dict gives the same object. Unknown field names raise ``TypeError`` like ``replace``.
    """
    unknown = changes.keys() - _FIELDS
    if unknown:
        raise TypeError(f"Matter has no field {sorted(unknown)[0]!r}")
    new = object.__new__(Matter)
    new.__dict__.update(matter.__dict__)
    new.__dict__.update(changes)
    return new


_FIELDS = frozenset(Matter.__dataclass_fields__)


def matter_from_dict(data: Mapping[str, Any]) -> Matter:
    """Rebuild a :class:`Matter` from :meth:`Matter.to_dict`; raises ``CodecError`` if bad."""
    matter: Matter = from_dict(Matter, data, "matter")
    return matter

"""Request bodies and response documents of the Dispatch API (the OpenAPI schemas).

Response models mirror :mod:`gridhub.views` (the contract with streams/); they allow extra
fields so a newer projection never breaks a reader.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
UnitCode = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
]
MatterId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
]
WarningLevel = Literal["none", "yellow", "red", "escalated"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


# ---- requests ---------------------------------------------------------------------------


class NoteIn(_In):
    note: Note = ""


class ProgressIn(_In):
    note: Text


class ResolveIn(_In):
    result: Text = Field(description="what was done (citizen-facing text)")
    attachments: list[HttpUrl] = Field(default_factory=list, max_length=20)


class ReasonIn(_In):
    reason: ShortText


class ExtensionIn(_In):
    reason: ShortText
    proposed_due: AwareDatetime = Field(description="the new resolve deadline asked for")


class DecisionIn(_In):
    approve: bool
    comment: Note = ""


class ReportInIn(_In):
    note: Note = ""


class WhistleIn(_In):
    departments: list[UnitCode] = Field(min_length=1, max_length=64)
    report_in_due: AwareDatetime | None = Field(
        None, description="report-in deadline; default: the category's report-in SLA"
    )
    note: Note = ""


class OwnerIn(_In):
    kind: Literal["village", "township", "city", "department", "leader"]
    code: UnitCode


class AssignIn(_In):
    owner: OwnerIn
    note: Note = ""


class ForwardIn(_In):
    departments: list[UnitCode] = Field(
        min_length=1, max_length=64, description="first is the primary owner, the rest co-handle"
    )
    note: Note = ""


class MergeIn(_In):
    into: MatterId = Field(description="the matter this duplicate is folded into")


class EscalateIn(_In):
    reason: Note = ""


class RatingIn(_In):
    rating: Literal["satisfied", "basically_satisfied", "not_satisfied"]
    comment: Note = ""


# ---- responses --------------------------------------------------------------------------


class OwnerOut(_Out):
    kind: str
    code: str


class DeadlineOut(_Out):
    due_at: str
    level: str


class MatterOut(_Out):
    """A matter as people see it (MatterView). Contact details are never in it."""

    id: str
    source: str
    category: str
    urgency: str
    grid: str
    village: str
    township: str
    description: str = Field(description="citizen text: render as text, never as HTML")
    address: str | None = None
    attachments: list[str] = []
    state: str
    owner: OwnerOut
    tier: str
    departments: list[str] = []
    deadlines: dict[str, DeadlineOut] = {}
    warning_level: str = "none"
    supervised: bool = False
    urge_count: int = 0
    rating: str | None = None
    accepted_at: str
    signed_at: str | None = None
    resolved_at: str | None = None
    closed_at: str | None = None
    updated_at: str
    version: int


class MatterPage(_Out):
    items: list[MatterOut]
    count: int = Field(description="items in this page")
    next_offset: int | None = Field(None, description="offset of the next page; null at the end")


class CommandOut(_Out):
    """The outcome of a command: applied (with the new state) or pending (poll status_url)."""

    command_id: str
    matter_id: str
    status: Literal["applied", "rejected", "pending"]
    state: str | None = None
    version: int | None = None
    events: list[str] = []
    reason: str | None = None
    matter: MatterOut | None = None
    status_url: str


class ContactOut(_Out):
    matter_id: str
    masked: bool
    name: str | None = None
    phone: str | None = None
    email: str | None = None


class TimelineEntry(_Out):
    """One event of the matter's full record: who did what, when, from which state to which."""

    type: str
    at: str
    actor: dict[str, str]
    before_state: str = ""
    after_state: str = ""
    version: int = 0


class TimelineOut(_Out):
    matter_id: str
    events: list[TimelineEntry]

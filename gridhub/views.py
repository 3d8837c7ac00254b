"""The shapes that cross process boundaries besides Kafka events: the contract between the
writer (streams/) and the readers (dispatch/, wallboard/, connectors/).

- :class:`MatterView`: the JSON at ``RedisKeys.matter(id)``, the matter as people see it.
  The reporter's contact is NOT in it; it lives at ``RedisKeys.contact(id)``.
- :class:`Delta`: one message on ``wallboard.updates``; ``scope`` lets the gateway route it.
- :class:`CommandResult`: what streams/ pushes to ``RedisKeys.command_result(command_id)``.
- :class:`AlertMessage`: one message on ``alerts``.

All timestamps are ISO 8601 strings in UTC. Build views with the streams' projection code
only; readers never compute a view themselves.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

WarningLevel = Literal["none", "yellow", "red", "escalated"]


class OwnerView(TypedDict):
    kind: Literal["village", "township", "city", "department", "leader"]
    code: str


class DeadlineView(TypedDict):
    due_at: str
    level: WarningLevel


class MatterView(TypedDict):
    id: str
    source: str
    category: str
    urgency: str
    grid: str
    village: str
    township: str
    description: str  # citizen text: render as text, never as HTML
    address: NotRequired[str]
    attachments: list[str]
    state: str  # accepted, assigned, signed_for, in_progress, resolved, closed, merged
    owner: OwnerView
    tier: str
    departments: list[str]  # every department involved (owner, co-handlers, summoned)
    deadlines: dict[str, DeadlineView]  # sign_for, resolve, report_in:<dept>
    warning_level: WarningLevel
    supervised: bool
    urge_count: int
    rating: NotRequired[str]
    accepted_at: str
    signed_at: NotRequired[str]
    resolved_at: NotRequired[str]
    closed_at: NotRequired[str]
    updated_at: str
    version: int


class Scope(TypedDict):
    township: str
    village: str
    grid: str
    departments: list[str]


class Delta(TypedDict):
    kind: Literal["matter", "alert", "kpi", "command", "command_ack", "calendar"]
    scope: Scope  # empty strings / [] for city-wide items
    at: str
    matter: NotRequired[MatterView]
    alert: NotRequired[AlertMessage]
    data: NotRequired[dict[str, object]]


class CommandResult(TypedDict):
    command_id: str
    matter_id: str
    status: Literal["applied", "rejected"]
    reason: NotRequired[str]
    state: NotRequired[str]
    version: NotRequired[int]
    events: list[str]  # event types produced


class AlertMessage(TypedDict):
    id: str  # deterministic warning id: exactly once per id
    matter_id: str
    level: Literal["yellow", "red", "escalate", "grid_alert", "calendar"]
    kind: str  # sign_for, resolve, report_in, near_deadline, cannot_solve, hotspot
    target: str  # who is warned: owner code, township_head, city_supervision, ...
    department: NotRequired[str]
    due_at: str
    fired_at: str
    township: str
    village: str
    step: NotRequired[int]  # escalation ladder step (level "escalate")
    grid: NotRequired[str]  # grid alerts
    category: NotRequired[str]  # grid alerts
    detail: NotRequired[str]  # grid alerts / calendar: human-readable detail

"""Pure builders of the shapes in :mod:`gridhub.views` from domain objects.

    view = matter_view(matter, policy)        # MatterView, the JSON at RedisKeys.matter(id)
    alert = alert_message(warning_event, matter)
    task = department_task(matter, "ZJJ", view)

Nothing here does I/O; :mod:`streams.projections` writes these to Redis and
:mod:`streams.outputs` to Kafka.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from gridhub.domain import sla
from gridhub.domain.events import Event, GridAlert
from gridhub.domain.events import Warning as WarningEvent
from gridhub.domain.matter import Matter
from gridhub.views import (
    AlertMessage,
    DeadlineView,
    Delta,
    MatterView,
    OwnerView,
    Scope,
    WarningLevel,
)


def iso(moment: datetime | None) -> str:
    """ISO 8601 text of ``moment`` ('' for None)."""
    return moment.isoformat() if moment is not None else ""


def running_deadlines(matter: Matter) -> dict[str, tuple[datetime, int]]:
    """Deadlines still running: kind → (due, generation); report-ins not yet reported."""
    out = {kind: (d.due_at, d.generation) for kind, d in matter.deadlines.items()}
    for dept, task in matter.whistle_tasks.items():
        if task.reported_at is None:
            out[sla.report_in_kind(dept)] = (task.due_at, task.generation)
    return out


def _level_of(matter: Matter, kind: str, generation: int, ladder: int) -> WarningLevel:
    fired = matter.fired_warnings
    if not fired:
        return "none"
    for step in range(ladder, 0, -1):
        if sla.warning_id(matter.id, kind, generation, f"escalate_{step}") in fired:
            return "escalated"
    if sla.warning_id(matter.id, kind, generation, "red") in fired:
        return "red"
    if sla.warning_id(matter.id, kind, generation, "yellow") in fired:
        return "yellow"
    return "none"


_RANK: dict[str, int] = {"none": 0, "yellow": 1, "red": 2, "escalated": 3}


def matter_view(matter: Matter, ladder: int = 3) -> MatterView:
    """The matter as people see it (no reporter contact); ``ladder`` = escalation steps."""
    deadlines: dict[str, DeadlineView] = {}
    worst: WarningLevel = "escalated" if matter.escalation_level > 0 else "none"
    if matter.is_open:
        for kind, (due, generation) in running_deadlines(matter).items():
            level = _level_of(matter, kind, generation, ladder)
            deadlines[kind] = {"due_at": iso(due), "level": level}
            if _RANK[level] > _RANK[worst]:
                worst = level
    else:
        worst = "none"
    view: dict[str, Any] = {
        "id": matter.id,
        "source": matter.source,
        "category": matter.category,
        "urgency": matter.urgency,
        "grid": matter.grid,
        "village": matter.village,
        "township": matter.township,
        "description": matter.description,
        "attachments": list(matter.attachments),
        "state": matter.state.value,
        "owner": cast(OwnerView, {"kind": matter.owner.kind, "code": matter.owner.code}),
        "tier": matter.tier.value,
        "departments": list(matter.departments),
        "deadlines": deadlines,
        "warning_level": worst,
        "supervised": matter.supervised,
        "urge_count": matter.urge_count,
        "accepted_at": iso(matter.accepted_at),
        "updated_at": iso(matter.updated_at or matter.accepted_at),
        "version": matter.version,
    }
    if matter.address:
        view["address"] = matter.address
    if matter.rating:
        view["rating"] = matter.rating
    for name in ("signed_at", "resolved_at", "closed_at"):
        value = getattr(matter, name)
        if value is not None:
            view[name] = iso(value)
    return cast(MatterView, view)


def scope_of(matter: Matter) -> Scope:
    """The wallboard scope of a matter: its units and every department involved."""
    return {
        "township": matter.township,
        "village": matter.village,
        "grid": matter.grid,
        "departments": list(matter.departments),
    }


def matter_delta(matter: Matter, view: MatterView) -> Delta:
    """The compact ``wallboard.updates`` delta of a matter's latest view."""
    return {"kind": "matter", "scope": scope_of(matter), "at": view["updated_at"], "matter": view}


def alert_message(event: Event, matter: Matter) -> AlertMessage | None:
    """The ``alerts`` message of a Warning or GridAlert event; None for other events.

    The id is the deterministic warning id (a grid alert: its event id), so a consumer can
    count each alert once whatever the delivery.
    """
    if isinstance(event, WarningEvent):
        level = "escalate" if event.level.startswith("escalate") else event.level
        department = event.department or (
            matter.owner.code if matter.owner.kind == "department" else None
        )
        alert: dict[str, Any] = {
            "id": event.warning_id,
            "matter_id": matter.id,
            "level": level,
            "kind": sla.REPORT_IN if event.department else event.kind,
            "target": event.target,
            "due_at": iso(event.due_at),
            "fired_at": iso(event.at),
            "township": matter.township,
            "village": matter.village,
        }
        if level == "escalate":
            alert["step"] = sla.escalation_step(event.level)
        if department:
            alert["department"] = department
        return cast(AlertMessage, alert)
    if isinstance(event, GridAlert):
        return grid_alert_message(event, matter.township, matter.village, event.event_id)
    return None


def grid_alert_message(
    event: GridAlert, township: str, village: str, alert_id: str
) -> AlertMessage:
    """The ``alerts`` message of a grid alert (near deadline, cannot solve, hotspot)."""
    alert: dict[str, Any] = {
        "id": alert_id,
        "matter_id": event.matter_id,
        "level": "grid_alert",
        "kind": event.reason,
        "target": f"township:{township}" if township else "city",
        "due_at": iso(event.at),
        "fired_at": iso(event.at),
        "township": township,
        "village": village,
        "grid": event.grid,
        "category": event.category,
        "detail": event.detail,
    }
    return cast(AlertMessage, alert)


def department_role(matter: Matter, department: str) -> str:
    """What is asked of ``department``: owner, co_handler, summoned, or released (no longer)."""
    if matter.owner.kind == "department" and matter.owner.code == department:
        return "owner"
    if department in matter.co_handlers:
        return "co_handler"
    task = matter.whistle_tasks.get(department)
    if task is not None:
        return "summoned" if task.reported_at is None else "reported_in"
    return "released"


_ASKED = {
    "owner": "sign for the matter, handle it and resolve it by the resolve deadline",
    "co_handler": "co-handle the matter with the owning department (progress notes)",
    "summoned": "report in (部门报到) by the report-in deadline",
    "reported_in": "reported in; support the township as summoned",
    "released": "nothing any more: the matter has left this department",
}


def department_task(matter: Matter, department: str, view: MatterView) -> dict[str, Any]:
    """The ``dept.<code>`` record body: the matter view plus what is asked of ``department``."""
    role = department_role(matter, department)
    deadlines: dict[str, str] = {}
    if role == "owner":
        deadlines = {k: v["due_at"] for k, v in view["deadlines"].items() if ":" not in k}
    elif role == "summoned":
        kind = sla.report_in_kind(department)
        if kind in view["deadlines"]:
            deadlines = {sla.REPORT_IN: view["deadlines"][kind]["due_at"]}
    return {
        "task_id": f"{matter.id}:{department}",
        "department": department,
        "role": role,
        "asked": _ASKED[role],
        "open": matter.is_open and role != "released",
        "deadlines": deadlines,
        "version": matter.version,
        "matter": view,
    }

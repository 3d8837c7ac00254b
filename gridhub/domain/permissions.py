"""Who may issue which command on which matter. Each check returns None or the refusal reason.

Rules:

* ``system`` may do everything (intake, timers, automation); ``auditor`` may do nothing.
* Owner actions (sign for, progress, resolve, return, report up, ask for an extension)
  belong to the holder: the village hub / township hub whose scope code is the owner's
  code, the department whose scope code is the owner's code, a city operator for the city
  platform, a leader for the leader tier. Co-handling departments and the grid's grid worker
  may also add progress.
* Dispatch (assign, forward, merge) is the city operator's; a township hub may also assign
  matters of its township to its own villages.
* Supervision (urge, supervise, escalate, decide extensions, close, reopen) belongs to
  supervisors, leaders and city operators; a township hub may urge its township's matters.
* Extensions of a matter in a hub's area (its township, or its village) may also be decided
  by that hub, unless the hub itself holds the matter: nobody approves their own request.
* A whistle comes from the matter's township hub (or a city operator); a report-in from the
  summoned department itself.
* Ratings come from the citizen, a city operator recording a phone call-back, or the system.
"""

from __future__ import annotations

from gridhub.domain.commands import (
    Accept,
    AddProgress,
    Assign,
    Close,
    Command,
    DeadlineDue,
    DecideExtension,
    EscalateToLeader,
    Forward,
    Merge,
    Rate,
    Reopen,
    ReportIn,
    ReportUp,
    RequestExtension,
    Resolve,
    Return,
    SignFor,
    Supervise,
    Urge,
    Whistle,
)
from gridhub.domain.hierarchy import City
from gridhub.domain.matter import Matter

_SUPERVISORS = frozenset({"supervisor", "leader", "city_operator"})
_ROLES: dict[type[Command], frozenset[str]] = {
    Accept: frozenset({"city_operator", "grid_worker"}),
    Forward: frozenset({"city_operator"}),
    Merge: frozenset({"city_operator"}),
    Urge: _SUPERVISORS,
    Supervise: _SUPERVISORS,
    EscalateToLeader: _SUPERVISORS,
    DecideExtension: _SUPERVISORS,
    Close: frozenset({"city_operator", "supervisor"}),
    Reopen: _SUPERVISORS,
    Rate: frozenset({"citizen", "city_operator"}),
    DeadlineDue: frozenset(),
}
_HUBS = frozenset({"township_hub", "village_hub"})
_OWNER_ACTIONS = (SignFor, AddProgress, Resolve, Return, ReportUp, RequestExtension)


def holds(command: Command, matter: Matter) -> bool:
    """Whether the command's actor is the matter's current holder (or the system)."""
    actor, owner = command.actor, matter.owner
    if actor.role == "system":
        return True
    if owner.kind == "city":
        return actor.role == "city_operator"
    if owner.kind == "leader":
        return actor.role == "leader"
    role = {"village": "village_hub", "township": "township_hub", "department": "department"}
    return actor.role == role[owner.kind] and actor.scope_code == owner.code


def check(command: Command, matter: Matter | None, city: City) -> str | None:
    """None when the actor may issue ``command`` on ``matter``, else the reason it may not."""
    actor = command.actor
    if actor.role == "system":
        return None
    if actor.role == "auditor":
        return "auditors may read but not act"
    if isinstance(command, ReportIn):
        if actor.role == "department" and actor.scope_code == command.department:
            return None
        return f"only department {command.department} can report in for itself"
    if matter is not None and isinstance(command, _OWNER_ACTIONS):
        if holds(command, matter):
            return None
        if isinstance(command, AddProgress) and _helps(command, matter):
            return None
        return (
            f"{actor.role} {actor.scope_code or actor.user_id} does not hold this matter "
            f"(held by {matter.owner})"
        )
    if matter is not None and isinstance(command, Assign):
        if actor.role == "city_operator":
            return None
        if (
            actor.role == "township_hub"
            and actor.scope_code == matter.township
            and command.owner.kind == "village"
            and command.owner.code in city.villages_of(matter.township)
        ):
            return None
        return "only a city operator, or the township hub for its own villages, can assign"
    if matter is not None and isinstance(command, Whistle):
        if actor.role == "city_operator":
            return None
        if actor.role == "township_hub" and actor.scope_code == matter.township:
            return None
        return f"only township {matter.township}'s hub (or a city operator) can whistle"
    if matter is not None and isinstance(command, Urge) and actor.role == "township_hub":
        if actor.scope_code == matter.township:
            return None
        return f"township hub {actor.scope_code} cannot urge a matter of {matter.township}"
    if matter is not None and isinstance(command, DecideExtension) and actor.role in _HUBS:
        area = matter.township if actor.role == "township_hub" else matter.village
        if actor.scope_code != area:
            return f"{actor.role} {actor.scope_code} cannot decide extensions outside its area"
        if holds(command, matter):
            return "the holder cannot decide its own extension request"
        return None
    allowed = _ROLES.get(type(command))
    if allowed is not None and actor.role not in allowed:
        who = ", ".join(sorted(allowed)) or "the system"
        return f"{actor.role} cannot {command.type}; allowed: {who}"
    return None


def _helps(command: Command, matter: Matter) -> bool:
    actor = command.actor
    if actor.role == "department" and actor.scope_code in matter.departments:
        return True
    return actor.role == "grid_worker" and actor.scope_code == matter.grid

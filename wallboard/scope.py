"""Which hubs may watch what: subscription rights and delta routing (pure code).

The gateway routes by *hub keys* (``city``, ``township:T01``, ``village:T01-V001``,
``department:ZJJ``): :func:`hub_keys` lists every hub that may see a delta, so fan-out
touches only the clients of those hubs. It is the inverse of the domain rule
:func:`gridhub.domain.scopes.can_see` (the city sees everything; a township its villages'
grids and what it holds; a village its grids and what it holds; a department what it owns,
co-handles or was summoned to), and the tests check the two agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gridhub.auth import Principal
from gridhub.domain.hierarchy import City
from gridhub.domain.scopes import Scope, scope_of
from wallboard.protocol import HubRef

CITY_KEY = "city"


def hub_exists(hub: HubRef, city: City) -> bool:
    """Whether the hub names a unit of this city."""
    if hub.kind == "city":
        return True
    units: Mapping[str, object] = {
        "township": city.townships,
        "village": city.villages,
        "department": city.departments,
    }[hub.kind]
    return hub.code in units


def principal_scope(principal: Principal) -> Scope | None:
    """The domain visibility scope of a token holder (None: may not watch any board)."""
    try:
        actor = principal.actor()
    except ValueError:  # connector tokens (intake, open311) have no actor and see no board
        return None
    return scope_of(actor)


def may_subscribe(principal: Principal, hub: HubRef, city: City) -> bool:
    """A city-wide token may watch any hub; a township token its township or its villages; a
    village token its village; a department token its department. Nothing else."""
    scope = principal_scope(principal)
    if scope is None or not hub_exists(hub, city):
        return False
    if scope.kind == "city":
        return True
    if scope.kind == "township":
        if hub.kind == "township":
            return hub.code == scope.code
        return hub.kind == "village" and city.villages[hub.code].township == scope.code
    return hub.kind == scope.kind and hub.code == scope.code


def _add_unit(keys: set[str], kind: str, code: object, city: City) -> None:
    if not isinstance(code, str) or not code:
        return
    if kind == "grid" and code in city.grids:
        village = city.village_of_grid(code)
        keys.add(f"village:{village}")
        keys.add(f"township:{city.villages[village].township}")
    elif kind == "village":
        keys.add(f"village:{code}")
        if code in city.villages:
            keys.add(f"township:{city.villages[code].township}")
    elif kind in ("township", "department"):
        keys.add(f"{kind}:{code}")


def hub_keys(delta: Mapping[str, Any], city: City) -> frozenset[str]:
    """Every hub that may see ``delta``: always the city, then its units by scope, the matter's
    owner and departments, the alert's department, and a command's targets."""
    keys = {CITY_KEY}
    scope = delta.get("scope")
    if isinstance(scope, Mapping):
        for kind in ("grid", "village", "township"):
            _add_unit(keys, kind, scope.get(kind), city)
        for dept in scope.get("departments") or ():
            _add_unit(keys, "department", dept, city)
    matter = delta.get("matter")
    if isinstance(matter, Mapping):
        for kind in ("grid", "village", "township"):
            _add_unit(keys, kind, matter.get(kind), city)
        owner = matter.get("owner")
        holder = owner.get("kind") if isinstance(owner, Mapping) else None
        code = owner.get("code") if isinstance(owner, Mapping) else None
        if holder in ("township", "village", "department") and isinstance(code, str) and code:
            keys.add(f"{holder}:{code}")  # the holder sees what it holds
        for dept in matter.get("departments") or ():
            _add_unit(keys, "department", dept, city)
    alert = delta.get("alert")
    if isinstance(alert, Mapping):
        _add_unit(keys, "village", alert.get("village"), city)
        _add_unit(keys, "township", alert.get("township"), city)
        _add_unit(keys, "department", alert.get("department"), city)
    data = delta.get("data")
    if isinstance(data, Mapping) and delta.get("kind") in ("command", "command_ack"):
        targets = list(data.get("targets") or ())
        if isinstance(data.get("target"), Mapping):
            targets.append(data["target"])
        for target in targets:
            if isinstance(target, Mapping) and target.get("kind") in (
                "township",
                "village",
                "department",
            ):
                keys.add(f"{target['kind']}:{target.get('code')}")
    return frozenset(keys)


def visible(hub: HubRef, delta: Mapping[str, Any], city: City) -> bool:
    """Whether a client watching ``hub`` may receive ``delta``."""
    return hub.key in hub_keys(delta, city)


def alert_delta(alert: Mapping[str, Any], at: str) -> dict[str, Any]:
    """Wrap an :class:`~gridhub.views.AlertMessage` from the ``alerts`` topic as a Delta."""
    dept = alert.get("department")
    return {
        "kind": "alert",
        "scope": {
            "township": alert.get("township") or "",
            "village": alert.get("village") or "",
            "grid": "",
            "departments": [dept] if isinstance(dept, str) and dept else [],
        },
        "at": at,
        "alert": dict(alert),
    }

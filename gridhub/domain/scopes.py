"""Who may see which matters: a hub or department sees only its part of the city.

    fields = summary_fields(matter)           # store these with the matter summary
    if can_see(Scope("township", "T01"), fields, city): ...

Rules: the city sees everything; a township sees matters in grids of its villages (and
matters it holds); a village sees matters in its grids (and matters it holds); a department
sees matters it owns, co-handles or was summoned to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gridhub.domain.commands import Actor
from gridhub.domain.hierarchy import City
from gridhub.domain.matter import Matter

ScopeKindName = Literal["city", "township", "village", "department"]


@dataclass(frozen=True)
class Scope:
    """A viewer's unit: ``Scope("city", "")``, ``Scope("township", code)`` and so on."""

    kind: ScopeKindName
    code: str = ""


def scope_of(actor: Actor) -> Scope | None:
    """The visibility scope of an actor; None when the actor has none (e.g. a citizen)."""
    if actor.role in ("city_operator", "supervisor", "leader", "auditor", "system"):
        return Scope("city", actor.scope_code)
    if actor.scope_kind in ("township", "village", "department"):
        return Scope(actor.scope_kind, actor.scope_code)
    return None


def summary_fields(matter: Matter) -> dict[str, Any]:
    """The fields :func:`can_see` needs, to keep with a matter summary in a projection."""
    return {
        "grid": matter.grid,
        "village": matter.village,
        "township": matter.township,
        "owner_kind": matter.owner.kind,
        "owner_code": matter.owner.code,
        "departments": list(matter.departments),
    }


def can_see(scope: Scope, fields: Mapping[str, Any], city: City) -> bool:
    """Whether ``scope`` may see the matter described by ``fields`` (see :func:`summary_fields`).

    ``village`` and ``township`` are derived from ``grid`` when they are missing.
    """
    if scope.kind == "city":
        return True
    owner_kind, owner_code = fields.get("owner_kind"), fields.get("owner_code")
    if owner_kind == scope.kind and owner_code == scope.code:
        return True
    grid = fields.get("grid")
    village = fields.get("village")
    if village is None and isinstance(grid, str) and grid in city.grids:
        village = city.village_of_grid(grid)
    if scope.kind == "village":
        return village == scope.code
    if scope.kind == "township":
        township = fields.get("township")
        if township is None and isinstance(village, str) and village in city.villages:
            township = city.villages[village].township
        return township == scope.code
    if scope.kind == "department":
        return scope.code in (fields.get("departments") or ())
    return False


def can_see_matter(scope: Scope, matter: Matter, city: City) -> bool:
    """:func:`can_see` for a full :class:`Matter`."""
    return can_see(scope, summary_fields(matter), city)

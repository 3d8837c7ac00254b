"""Who gets a matter: first routing at intake, the report-up ladder, and city forwarding.

    owner = route(city.categories["ROAD"], "G001", city)          # Owner(kind="village", ...)
    up = next_tier_up(owner, matter, city)                         # Owner | None at the top
    primary, co = forward_targets(("URBAN", "WATER"), city)        # or a str reason

Ladder (属地管理、分级处置): village → township → city platform → department(s) → leader.
Department-tier categories go straight to ``category.departments[0]``; the other listed
departments become co-handlers. The city platform forwards to departments: the first named
is the primary owner, the rest co-handle (they may add progress, the primary resolves).
"""

from __future__ import annotations

from collections.abc import Sequence

from gridhub.domain.hierarchy import Category, City, Tier
from gridhub.domain.matter import Matter, Owner


def city_owner(city: City) -> Owner:
    """The city platform (市级平台) as an owner."""
    return Owner(kind="city", code=city.code)


def leader_owner(city: City) -> Owner:
    """The city leader (major and difficult matters) as an owner."""
    return Owner(kind="leader", code=city.code)


def route(category: Category, grid: str, city: City) -> Owner:
    """The first owner of a new matter of ``category`` in ``grid`` (default tier first)."""
    tier = category.default_tier
    if tier == Tier.VILLAGE:
        return Owner(kind="village", code=city.village_of_grid(grid))
    if tier == Tier.TOWNSHIP:
        return Owner(kind="township", code=city.township_of_grid(grid))
    if tier == Tier.DEPARTMENT and category.departments:
        return Owner(kind="department", code=category.departments[0])
    if tier == Tier.LEADER:
        return leader_owner(city)
    return city_owner(city)


def co_handlers_for(owner: Owner, category: Category) -> tuple[str, ...]:
    """Co-handling departments when ``owner`` is the category's first default department."""
    if owner.kind == "department" and category.departments[:1] == (owner.code,):
        return tuple(category.departments[1:])
    return ()


def next_tier_up(owner: Owner, matter: Matter, city: City) -> Owner | None:
    """The owner one tier above ``owner`` for ``matter``; None when ``owner`` is the leader.

    The city platform's next tier is the category's first department (the leader when the
    category names none).
    """
    if owner.kind == "village":
        village = city.villages.get(owner.code)
        return Owner(kind="township", code=village.township if village else matter.township)
    if owner.kind == "township":
        return city_owner(city)
    if owner.kind == "city":
        category = city.categories.get(matter.category)
        if category is not None and category.departments:
            return Owner(kind="department", code=category.departments[0])
        return leader_owner(city)
    if owner.kind == "department":
        return leader_owner(city)
    return None


def forward_targets(departments: Sequence[str], city: City) -> tuple[Owner, tuple[str, ...]] | str:
    """Primary owner and co-handlers of a forward to ``departments``, or the reason it is bad."""
    if not departments:
        return "forward needs at least one department"
    if len(set(departments)) != len(departments):
        return "a department is named twice"
    unknown = [d for d in departments if d not in city.departments]
    if unknown:
        return f"unknown department {unknown[0]!r}"
    return Owner(kind="department", code=departments[0]), tuple(departments[1:])


def owner_exists(owner: Owner, city: City) -> bool:
    """Whether ``owner`` names a real unit of ``city``."""
    if owner.kind == "village":
        return owner.code in city.villages
    if owner.kind == "township":
        return owner.code in city.townships
    if owner.kind == "department":
        return owner.code in city.departments
    return owner.code == city.code

"""Routing at intake, the report-up ladder and city forwarding."""

from __future__ import annotations

from gridhub.domain.matter import Owner
from gridhub.domain.routing import (
    co_handlers_for,
    forward_targets,
    next_tier_up,
    owner_exists,
    route,
)

from .support import CITY, accept, run


def test_route_by_default_tier() -> None:
    cats = CITY.categories
    assert route(cats["ROAD"], "G3", CITY) == Owner(kind="village", code="V2")
    assert route(cats["DISPUTE"], "G4", CITY) == Owner(kind="township", code="T2")
    assert route(cats["PERMIT"], "G1", CITY) == Owner(kind="city", code="C1")
    assert route(cats["WATER"], "G1", CITY) == Owner(kind="department", code="WATER")
    assert route(cats["MAJOR"], "G1", CITY) == Owner(kind="leader", code="C1")


def test_co_handlers_of_department_tier() -> None:
    water = CITY.categories["WATER"]
    assert co_handlers_for(Owner(kind="department", code="WATER"), water) == ("URBAN",)
    assert co_handlers_for(Owner(kind="department", code="URBAN"), water) == ()
    assert co_handlers_for(Owner(kind="city", code="C1"), water) == ()


def test_ladder() -> None:
    matter, _ = run(None, accept(grid="G4"))
    assert matter is not None
    v = Owner(kind="village", code="V3")
    t = next_tier_up(v, matter, CITY)
    assert t == Owner(kind="township", code="T2")
    c = next_tier_up(t, matter, CITY)
    assert c == Owner(kind="city", code="C1")
    d = next_tier_up(c, matter, CITY)
    assert d == Owner(kind="department", code="URBAN")
    leader = next_tier_up(d, matter, CITY)
    assert leader == Owner(kind="leader", code="C1")
    assert next_tier_up(leader, matter, CITY) is None


def test_city_without_departments_goes_to_leader() -> None:
    matter, _ = run(None, accept(category="MAJOR"))
    assert matter is not None
    up = next_tier_up(Owner(kind="city", code="C1"), matter, CITY)
    assert up == Owner(kind="leader", code="C1")


def test_forward_targets() -> None:
    assert forward_targets(("WATER", "URBAN"), CITY) == (
        Owner(kind="department", code="WATER"),
        ("URBAN",),
    )
    assert forward_targets((), CITY) == "forward needs at least one department"
    assert "twice" in str(forward_targets(("WATER", "WATER"), CITY))
    assert "unknown department" in str(forward_targets(("NOPE",), CITY))


def test_owner_exists() -> None:
    assert owner_exists(Owner(kind="village", code="V1"), CITY)
    assert not owner_exists(Owner(kind="village", code="T1"), CITY)
    assert owner_exists(Owner(kind="township", code="T1"), CITY)
    assert owner_exists(Owner(kind="department", code="JUSTICE"), CITY)
    assert owner_exists(Owner(kind="city", code="C1"), CITY)
    assert not owner_exists(Owner(kind="leader", code="C2"), CITY)

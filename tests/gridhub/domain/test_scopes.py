"""Visibility: city sees all, townships their villages, villages their grids, departments theirs."""

from __future__ import annotations

from gridhub.domain.commands import Forward, Whistle
from gridhub.domain.scopes import Scope, can_see, can_see_matter, scope_of, summary_fields

from .support import CITIZEN, CITY, OPERATOR, accept, dept, later, ok, township, village


def test_visibility_of_a_village_matter() -> None:
    m, _ = ok(None, accept(grid="G3"))  # village V2, township T1
    assert can_see_matter(Scope("city"), m, CITY)
    assert can_see_matter(Scope("township", "T1"), m, CITY)
    assert not can_see_matter(Scope("township", "T2"), m, CITY)
    assert can_see_matter(Scope("village", "V2"), m, CITY)
    assert not can_see_matter(Scope("village", "V1"), m, CITY)
    assert not can_see_matter(Scope("department", "URBAN"), m, CITY)


def test_departments_see_owned_co_handled_and_summoned() -> None:
    m, _ = ok(None, accept(category="PERMIT", grid="G4"))
    m, _ = ok(
        m,
        Forward(
            matter_id="M1", actor=OPERATOR, at=later(minutes=1), departments=("WATER", "URBAN")
        ),
    )
    m, _ = ok(
        m,
        Whistle(
            matter_id="M1", actor=township("T2"), at=later(minutes=2), departments=("JUSTICE",)
        ),
    )
    for code in ("WATER", "URBAN", "JUSTICE"):
        assert can_see_matter(Scope("department", code), m, CITY), code


def test_holder_sees_a_matter_outside_its_area() -> None:
    fields = {"grid": "G4", "owner_kind": "village", "owner_code": "V1", "departments": []}
    assert can_see(Scope("village", "V1"), fields, CITY)


def test_fields_derive_village_and_township_from_grid() -> None:
    fields = {"grid": "G1", "owner_kind": "city", "owner_code": "C1"}
    assert can_see(Scope("township", "T1"), fields, CITY)
    assert can_see(Scope("village", "V1"), fields, CITY)
    assert not can_see(Scope("department", "URBAN"), fields, CITY)


def test_summary_fields_are_json_plain() -> None:
    m, _ = ok(None, accept(category="WATER"))
    assert summary_fields(m) == {
        "grid": "G1",
        "village": "V1",
        "township": "T1",
        "owner_kind": "department",
        "owner_code": "WATER",
        "departments": ["WATER", "URBAN"],
    }


def test_scope_of_actor() -> None:
    assert scope_of(OPERATOR) == Scope("city", "C1")
    assert scope_of(township("T1")) == Scope("township", "T1")
    assert scope_of(village("V1")) == Scope("village", "V1")
    assert scope_of(dept("WATER")) == Scope("department", "WATER")
    assert scope_of(CITIZEN) is None

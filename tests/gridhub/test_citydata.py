"""The city data file and its loader: exact reference counts, broken files rejected precisely."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gridhub.citydata import (
    GROUPS,
    CityDataError,
    city_summary,
    load_city,
    load_city_file,
    parse_city,
)
from gridhub.domain.hierarchy import City, Duration, GridKind, Tier
from gridhub.settings import DEFAULT_CITY_FILE

ROOT = Path(__file__).resolve().parents[2]
SHULAN = ROOT / "gridhub" / "data" / "shulan.json"
FAST = ROOT / "tests" / "data" / "city_fast.json"
GENERATOR = ROOT / "tools" / "gen_city.py"


@pytest.fixture(scope="module")
def shulan_raw() -> dict[str, Any]:
    return json.loads(SHULAN.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def shulan() -> City:
    return load_city(SHULAN)


def _broken(raw: dict[str, Any], mutate: Any) -> str:
    data = copy.deepcopy(raw)
    mutate(data)
    with pytest.raises(CityDataError) as info:
        parse_city(data, "shulan.json")
    return str(info.value)


def test_default_path_is_the_package_data_file() -> None:
    assert DEFAULT_CITY_FILE.resolve() == SHULAN.resolve()
    assert SHULAN.is_file()


def test_reference_counts_are_exact(shulan: City) -> None:
    counts = shulan.counts()
    assert counts["townships"] == 20
    assert counts["villages"] == 229
    assert counts["grids"] == 1655
    assert (counts["grids_urban"], counts["grids_rural"], counts["grids_exclusive"]) == (
        167,
        1316,
        172,
    )
    assert counts["departments"] == 44
    assert counts["categories"] >= 30
    assert shulan.code == "220283" and shulan.name_zh == "舒兰市"
    summary = city_summary(shulan)
    assert "townships 20" in summary and "villages 229" in summary
    assert "grids 1,655 (urban 167 / rural 1,316 / exclusive 172)" in summary
    assert "departments 44" in summary


def test_reference_references_are_whole(shulan: City) -> None:
    for cat in shulan.categories.values():
        assert cat.departments, cat.code
        assert all(d in shulan.departments for d in cat.departments), cat.code
        assert cat.group in GROUPS
        assert cat.default_tier in (Tier.VILLAGE, Tier.TOWNSHIP, Tier.CITY, Tier.DEPARTMENT)
        normal, urgent = cat.sla_for("normal"), cat.sla_for("urgent")
        assert urgent.resolve.seconds < normal.resolve.seconds
        assert urgent.sign_for.seconds <= normal.sign_for.seconds
    for grid in shulan.grids.values():
        assert grid.village in shulan.villages
        assert shulan.bbox.contains(grid.lat, grid.lon)
        assert grid.code.startswith(grid.village + "-")
    for village in shulan.villages.values():
        assert village.township in shulan.townships
        assert village.code in shulan.villages_of(village.township)
    assert sum(len(shulan.villages_of(t)) for t in shulan.townships) == 229
    # Urban grids sit in communities, rural grids in villages.
    for grid in shulan.grids.values():
        kind = shulan.villages[grid.village].kind
        if grid.kind is GridKind.URBAN:
            assert kind == "community"
        elif grid.kind is GridKind.RURAL:
            assert kind == "village"


def test_reference_covers_every_group_and_has_unique_topic_safe_codes(shulan: City) -> None:
    assert {c.group for c in shulan.categories.values()} == set(GROUPS)
    for code in shulan.departments:
        assert code.isascii() and code.isalnum() and code.isupper()
    assert shulan.urgencies == ("normal", "urgent")


def test_file_level_extras(shulan_raw: dict[str, Any]) -> None:
    model = load_city_file(SHULAN)
    assert "generated" in model.notes.lower() and "real" in model.notes.lower()
    assert model.warning_policy.yellow_share == 0.8
    assert [tuple(r) for r in model.warning_policy.ladder] == [
        (1, "township_head"),
        (3, "city_supervision"),
        (5, "city_leader"),
    ]
    assert shulan_raw["urgencies"] == ["normal", "urgent"]


def test_fast_city_loads() -> None:
    city = load_city(FAST)
    assert len(city.townships) == 2 and len(city.villages) == 3 and len(city.grids) == 6
    assert len(city.departments) == 3
    fast = city.categories["TEST-FAST"]
    for urgency in ("normal", "urgent"):
        sla = fast.sla_for(urgency)
        assert (sla.sign_for, sla.resolve, sla.report_in) == (
            Duration(4, "s"),
            Duration(8, "s"),
            Duration(3, "s"),
        )


@pytest.mark.parametrize("fast", [False, True])
def test_generator_is_deterministic(tmp_path: Path, fast: bool) -> None:
    out = tmp_path / "city.json"
    args = [sys.executable, str(GENERATOR), "--out", str(out)] + (["--fast"] if fast else [])
    subprocess.run(args, check=True, capture_output=True)
    committed = FAST if fast else SHULAN
    assert out.read_bytes() == committed.read_bytes()


def test_duplicate_grid_code(shulan_raw: dict[str, Any]) -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["grids"][17]["code"] = d["grids"][3]["code"]

    msg = _broken(shulan_raw, mutate)
    assert "shulan.json" in msg and "grids[17].code" in msg
    assert "duplicate code" in msg and "grids[3]" in msg


def test_orphan_grid(shulan_raw: dict[str, Any]) -> None:
    msg = _broken(shulan_raw, lambda d: d["grids"][17].update(village="T99-V999"))
    assert "grids[17].village" in msg and "T99-V999" in msg and "orphan" in msg


def test_unknown_department_in_category(shulan_raw: dict[str, Any]) -> None:
    msg = _broken(shulan_raw, lambda d: d["categories"][2]["departments"].append("NOPE"))
    assert "categories[2].departments[" in msg and "unknown department 'NOPE'" in msg


def test_duplicate_department_code(shulan_raw: dict[str, Any]) -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["departments"][5]["code"] = d["departments"][0]["code"]

    msg = _broken(shulan_raw, mutate)
    assert "departments[5].code" in msg and "duplicate code" in msg


def test_village_with_unknown_township(shulan_raw: dict[str, Any]) -> None:
    msg = _broken(shulan_raw, lambda d: d["villages"][4].update(township="T77"))
    assert "villages[4].township" in msg and "unknown township 'T77'" in msg


def test_bad_duration(shulan_raw: dict[str, Any]) -> None:
    msg = _broken(
        shulan_raw,
        lambda d: d["categories"][1]["sla"]["urgent"].update(resolve="3 weeks"),
    )
    assert "categories[1].sla.urgent.resolve" in msg and "bad duration" in msg


def test_missing_normal_sla(shulan_raw: dict[str, Any]) -> None:
    msg = _broken(shulan_raw, lambda d: d["categories"][0]["sla"].pop("normal"))
    assert "categories[0].sla" in msg and "missing 'normal' SLA" in msg


def test_grid_outside_bbox(shulan_raw: dict[str, Any]) -> None:
    msg = _broken(shulan_raw, lambda d: d["grids"][9].update(lat=39.9, lon=116.4))
    assert "grids[9]" in msg and "outside the city bbox" in msg


def test_unknown_key_and_bad_department_code(shulan_raw: dict[str, Any]) -> None:
    msg = _broken(shulan_raw, lambda d: d["villages"][2].update(mayor="x"))
    assert "villages[2].mayor" in msg
    msg = _broken(shulan_raw, lambda d: d["departments"][1].update(code="gaj-2"))
    assert "departments[1].code" in msg


def test_unknown_group_and_tier(shulan_raw: dict[str, Any]) -> None:
    msg = _broken(shulan_raw, lambda d: d["categories"][3].update(group="misc"))
    assert "categories[3].group" in msg and "'misc'" in msg
    msg = _broken(shulan_raw, lambda d: d["categories"][3].update(default_tier="county"))
    assert "categories[3].default_tier" in msg


def test_malformed_json_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"code": "1",', encoding="utf-8")
    with pytest.raises(CityDataError, match=r"broken\.json: line 1 column \d+: invalid JSON"):
        load_city(bad)
    with pytest.raises(CityDataError, match="expected a JSON object"):
        parse_city([], "list.json")

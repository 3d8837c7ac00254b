"""Load and check a city data file (default ``gridhub/data/shulan.json``) into a :class:`City`.

The file is validated twice: its shape by pydantic models (unknown keys are refused), then
its cross-references (duplicate codes, orphan grids and villages, unknown departments,
grids outside the city's bounding box). Any problem raises :class:`CityDataError` whose
message names the file, the JSON path (e.g. ``grids[17].village``) and the problem.

No caching here: callers load once at their process edge and pass the :class:`City` down.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from gridhub.domain.hierarchy import (
    BoundingBox,
    Category,
    City,
    Department,
    Duration,
    Grid,
    GridKind,
    Sla,
    Tier,
    Township,
    Village,
)

Group = Literal[
    "livelihood",
    "dispute",
    "enterprise",
    "social_order",
    "environment",
    "epidemic",
    "rural",
    "safety",
    "urban",
    "other",
]
#: The category groups replay reports count by.
GROUPS: tuple[str, ...] = get_args(Group)


class CityDataError(ValueError):
    """A city data file is unreadable or inconsistent; the message says where and why."""

    def __init__(self, source: str, path: str, problem: str) -> None:
        self.source = source
        self.path = path
        self.problem = problem
        where = f"{source}: {path}" if path else source
        super().__init__(f"{where}: {problem}")


def _check_duration(text: str) -> str:
    Duration.parse(text)  # raises ValueError with a readable message
    return text


DurationText = Annotated[str, AfterValidator(_check_duration)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
DeptCode = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Z0-9]+$")]
Name = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BBoxModel(_Model):
    min_lat: float = Field(ge=-90, le=90)
    min_lon: float = Field(ge=-180, le=180)
    max_lat: float = Field(ge=-90, le=90)
    max_lon: float = Field(ge=-180, le=180)

    @model_validator(mode="after")
    def _ordered(self) -> BBoxModel:
        if self.min_lat >= self.max_lat or self.min_lon >= self.max_lon:
            raise ValueError("min_lat/min_lon must be below max_lat/max_lon")
        return self


class WarningPolicyModel(_Model):
    yellow_share: float = Field(default=0.8, gt=0, lt=1)
    ladder: list[tuple[int, str]] = Field(
        default_factory=lambda: [(1, "township_head"), (3, "city_supervision"), (5, "city_leader")],
        min_length=1,
    )


class TownshipModel(_Model):
    code: Code
    name_zh: Name
    name_en: Name
    kind: Literal["town", "township", "street"]
    lat: float | None = None
    lon: float | None = None


class VillageModel(_Model):
    code: Code
    name_zh: Name
    name_en: Name
    township: Code
    kind: Literal["village", "community"]
    lat: float | None = None
    lon: float | None = None


class GridModel(_Model):
    code: Code
    name_zh: Name
    village: Code
    kind: GridKind
    lat: float
    lon: float


class DepartmentModel(_Model):
    code: DeptCode
    name_zh: Name
    name_en: Name


class SlaModel(_Model):
    sign_for: DurationText
    resolve: DurationText
    report_in: DurationText


class CategoryModel(_Model):
    code: Code
    name_zh: Name
    name_en: Name
    group: Group
    default_tier: Tier
    departments: list[str] = Field(min_length=1)
    sla: dict[str, SlaModel]


class CityFileModel(_Model):
    """The whole data file, as written by ``tools/gen_city.py``."""

    code: Code
    name_zh: Name
    name_en: Name
    notes: str = ""
    bbox: BBoxModel
    urgencies: list[str] = Field(default_factory=lambda: ["normal", "urgent"], min_length=1)
    warning_policy: WarningPolicyModel = Field(default_factory=lambda: WarningPolicyModel())
    townships: list[TownshipModel] = Field(min_length=1)
    villages: list[VillageModel] = Field(min_length=1)
    grids: list[GridModel] = Field(min_length=1)
    departments: list[DepartmentModel] = Field(min_length=1)
    categories: list[CategoryModel] = Field(min_length=1)


def _json_path(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _first_error(source: str, exc: ValidationError) -> CityDataError:
    errors = exc.errors()
    err = errors[0]
    problem = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] in ("literal_error", "enum", "string_pattern_mismatch"):
        problem = f"{problem} (got {err.get('input')!r})"
    if len(errors) > 1:
        problem += f" (and {len(errors) - 1} more problem(s))"
    return CityDataError(source, _json_path(err["loc"]), problem)


def _unique(source: str, name: str, items: Sequence[Any]) -> dict[str, int]:
    """Index ``items`` by code; a repeated code is an error naming both places."""
    index: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.code in index:
            raise CityDataError(
                source,
                f"{name}[{i}].code",
                f"duplicate code {item.code!r} (first at {name}[{index[item.code]}])",
            )
        index[item.code] = i
    return index


def check_city_file(model: CityFileModel, source: str) -> None:
    """Cross-reference checks a single-object schema cannot do; raise :class:`CityDataError`."""
    townships = _unique(source, "townships", model.townships)
    villages = _unique(source, "villages", model.villages)
    _unique(source, "grids", model.grids)
    departments = _unique(source, "departments", model.departments)
    _unique(source, "categories", model.categories)

    seen_urgency: set[str] = set()
    for i, urgency in enumerate(model.urgencies):
        if urgency in seen_urgency:
            raise CityDataError(source, f"urgencies[{i}]", f"duplicate urgency {urgency!r}")
        seen_urgency.add(urgency)
    if "normal" not in seen_urgency:
        raise CityDataError(source, "urgencies", "must include 'normal'")

    bbox = model.bbox
    box = BoundingBox(bbox.min_lat, bbox.min_lon, bbox.max_lat, bbox.max_lon)
    for i, vil in enumerate(model.villages):
        if vil.township not in townships:
            raise CityDataError(
                source,
                f"villages[{i}].township",
                f"unknown township {vil.township!r} for village {vil.code!r}",
            )
    for i, grid in enumerate(model.grids):
        if grid.village not in villages:
            raise CityDataError(
                source,
                f"grids[{i}].village",
                f"orphan grid {grid.code!r}: unknown village {grid.village!r}",
            )
        if not box.contains(grid.lat, grid.lon):
            raise CityDataError(
                source,
                f"grids[{i}]",
                f"grid {grid.code!r} at ({grid.lat}, {grid.lon}) is outside the city bbox "
                f"({bbox.min_lat}..{bbox.max_lat}, {bbox.min_lon}..{bbox.max_lon})",
            )
    for i, cat in enumerate(model.categories):
        for j, dept in enumerate(cat.departments):
            if dept not in departments:
                raise CityDataError(
                    source,
                    f"categories[{i}].departments[{j}]",
                    f"unknown department {dept!r} in category {cat.code!r}",
                )
        if len(set(cat.departments)) != len(cat.departments):
            raise CityDataError(
                source,
                f"categories[{i}].departments",
                f"repeated department in category {cat.code!r}",
            )
        if "normal" not in cat.sla:
            raise CityDataError(
                source, f"categories[{i}].sla", f"missing 'normal' SLA in category {cat.code!r}"
            )
        for urgency in cat.sla:
            if urgency not in seen_urgency:
                raise CityDataError(
                    source,
                    f"categories[{i}].sla.{urgency}",
                    f"unknown urgency {urgency!r} (urgencies: {', '.join(model.urgencies)})",
                )
    for i, (rung, _who) in enumerate(model.warning_policy.ladder):
        if rung < 0:
            raise CityDataError(source, f"warning_policy.ladder[{i}]", "negative level")


def parse_city_file(data: object, source: str) -> CityFileModel:
    """Validate ``data`` (the decoded JSON) fully and return the file model."""
    if not isinstance(data, Mapping):
        raise CityDataError(source, "", f"expected a JSON object, got {type(data).__name__}")
    try:
        model = CityFileModel.model_validate(data)
    except ValidationError as exc:
        raise _first_error(source, exc) from None
    check_city_file(model, source)
    return model


def _sla(model: SlaModel) -> Sla:
    return Sla(
        sign_for=Duration.parse(model.sign_for),
        resolve=Duration.parse(model.resolve),
        report_in=Duration.parse(model.report_in),
    )


def build_city(model: CityFileModel) -> City:
    """The domain :class:`City` of an already checked file model."""
    by_township: dict[str, list[str]] = {t.code: [] for t in model.townships}
    for vil in model.villages:
        by_township[vil.township].append(vil.code)
    b = model.bbox
    return City(
        code=model.code,
        name_zh=model.name_zh,
        name_en=model.name_en,
        bbox=BoundingBox(b.min_lat, b.min_lon, b.max_lat, b.max_lon),
        townships={t.code: Township(t.code, t.name_zh, t.name_en, t.kind) for t in model.townships},
        villages={
            v.code: Village(v.code, v.name_zh, v.name_en, v.township, v.kind)
            for v in model.villages
        },
        grids={
            g.code: Grid(g.code, g.name_zh, g.village, GridKind(g.kind), g.lat, g.lon)
            for g in model.grids
        },
        departments={d.code: Department(d.code, d.name_zh, d.name_en) for d in model.departments},
        categories={
            c.code: Category(
                code=c.code,
                name_zh=c.name_zh,
                name_en=c.name_en,
                group=c.group,
                default_tier=Tier(c.default_tier),
                departments=tuple(c.departments),
                sla={u: _sla(s) for u, s in c.sla.items()},
            )
            for c in model.categories
        },
        urgencies=tuple(model.urgencies),
        _villages_by_township={t: tuple(v) for t, v in by_township.items()},
    )


def parse_city(data: object, source: str = "<data>") -> City:
    """Validate decoded JSON ``data`` and build the :class:`City`; ``source`` names it in errors."""
    return build_city(parse_city_file(data, source))


def read_city_json(path: str | Path) -> object:
    """The decoded JSON of a city file; unreadable or malformed files raise CityDataError."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CityDataError(source, "", f"cannot read: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CityDataError(
            source, f"line {exc.lineno} column {exc.colno}", f"invalid JSON: {exc.msg}"
        ) from None


def load_city_file(path: str | Path) -> CityFileModel:
    """The checked file model, including ``notes`` and ``warning_policy`` that City lacks."""
    return parse_city_file(read_city_json(path), str(path))


def load_city(path: str | Path) -> City:
    """Read, check and build the city in ``path``; raise :class:`CityDataError` on any problem."""
    return build_city(load_city_file(path))


def city_summary(city: City) -> str:
    """One line of the figures a city is checked by, e.g. for ``gridhub city``."""
    c = city.counts()
    return (
        f"{city.name_en} {city.name_zh} ({city.code}): townships {c['townships']:,}, "
        f"villages {c['villages']:,}, grids {c['grids']:,} (urban {c['grids_urban']:,} / "
        f"rural {c['grids_rural']:,} / exclusive {c['grids_exclusive']:,}), "
        f"departments {c['departments']:,}, categories {c['categories']:,}"
    )

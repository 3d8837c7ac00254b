"""The city's units as plain data: townships, villages, grids, departments, categories.

Built once from the city data file (see :mod:`gridhub.citydata`) and then only read.
Nothing about one particular city lives here; Shulan is just the default data file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal


class Tier(StrEnum):
    """The tiers of handling, lowest first: 小事不出村、大事不出镇、难事不出县."""

    VILLAGE = "village"
    TOWNSHIP = "township"
    CITY = "city"
    DEPARTMENT = "department"
    LEADER = "leader"

    @property
    def rank(self) -> int:
        return _TIER_ORDER.index(self)


_TIER_ORDER = [Tier.VILLAGE, Tier.TOWNSHIP, Tier.CITY, Tier.DEPARTMENT, Tier.LEADER]


class GridKind(StrEnum):
    URBAN = "urban"  # urban community grid, 300–500 households
    RURAL = "rural"  # one per natural village / villagers' group
    EXCLUSIVE = "exclusive"  # 专属网格: schools, enterprises, business districts


DurationUnit = Literal["s", "m", "h", "d", "wd"]


@dataclass(frozen=True)
class Duration:
    """An SLA length: seconds, minutes, hours, calendar days (7×24) or working days ("wd").

    Parse the data file's notation with :meth:`parse`, e.g. ``Duration.parse("3wd")``.
    """

    amount: int
    unit: DurationUnit

    @classmethod
    def parse(cls, text: str) -> Duration:
        text = text.strip()
        for unit in ("wd", "s", "m", "h", "d"):
            if text.endswith(unit):
                number = text[: -len(unit)]
                if number.isdigit() and int(number) > 0:
                    return cls(int(number), unit)
                break
        raise ValueError(f"bad duration {text!r}: expected a positive number with s, m, h, d or wd")

    @property
    def seconds(self) -> int:
        """Length in wall-clock seconds; working days count as 24 h (use the calendar for real)."""
        per = {"s": 1, "m": 60, "h": 3600, "d": 86400, "wd": 86400}[self.unit]
        return self.amount * per

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@dataclass(frozen=True)
class Sla:
    """Deadlines of one category at one urgency. ``report_in`` applies when a township whistles."""

    sign_for: Duration
    resolve: Duration
    report_in: Duration


@dataclass(frozen=True)
class Category:
    code: str
    name_zh: str
    name_en: str
    group: str  # e.g. "livelihood", "dispute", "enterprise"
    default_tier: Tier
    departments: tuple[str, ...]  # default department codes
    sla: Mapping[str, Sla]  # by urgency: "normal", "urgent", ...

    def sla_for(self, urgency: str) -> Sla:
        """The deadlines for ``urgency``; unknown urgencies fall back to "normal"."""
        return self.sla.get(urgency) or self.sla["normal"]


@dataclass(frozen=True)
class Department:
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Township:
    code: str
    name_zh: str
    name_en: str
    kind: Literal["town", "township", "street"]


@dataclass(frozen=True)
class Village:
    code: str
    name_zh: str
    name_en: str
    township: str
    kind: Literal["village", "community"]


@dataclass(frozen=True)
class Grid:
    code: str
    name_zh: str
    village: str
    kind: GridKind
    lat: float
    lon: float


@dataclass(frozen=True)
class BoundingBox:
    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


@dataclass(frozen=True)
class City:
    """One city's whole hierarchy with lookups by code.

    Build with :func:`gridhub.citydata.load_city`.
    """

    code: str
    name_zh: str
    name_en: str
    bbox: BoundingBox
    townships: Mapping[str, Township]
    villages: Mapping[str, Village]
    grids: Mapping[str, Grid]
    departments: Mapping[str, Department]
    categories: Mapping[str, Category]
    urgencies: tuple[str, ...] = ("normal", "urgent")
    _villages_by_township: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def township_of_grid(self, grid_code: str) -> str:
        return self.villages[self.grids[grid_code].village].township

    def village_of_grid(self, grid_code: str) -> str:
        return self.grids[grid_code].village

    def villages_of(self, township_code: str) -> tuple[str, ...]:
        return self._villages_by_township.get(township_code, ())

    def counts(self) -> dict[str, int]:
        """The figures a city is checked by: townships, villages, grids (by kind), departments."""
        kinds = {k.value: 0 for k in GridKind}
        for grid in self.grids.values():
            kinds[grid.kind.value] += 1
        return {
            "townships": len(self.townships),
            "villages": len(self.villages),
            "grids": len(self.grids),
            **{f"grids_{k}": v for k, v in kinds.items()},
            "departments": len(self.departments),
            "categories": len(self.categories),
        }

    def nearest_grid(self, lat: float, lon: float) -> str | None:
        """The grid whose centre is nearest to a point inside the city, or None outside it."""
        if not self.bbox.contains(lat, lon):
            return None
        coslat = math.cos(math.radians(lat))
        best = min(
            self.grids.values(),
            key=lambda g: (g.lat - lat) ** 2 + ((g.lon - lon) * coslat) ** 2,
        )
        return best.code

"""What a simulated matter says and who says it: varied Chinese texts per category and
channel, placed in the matter's own village or community, from the data of
:mod:`gridhub.simulate.phrasebook`.

    words = Phrasebook(city)
    text = words.compose(rng, "LIV-HEATING", grid, Source.HOTLINE_12345, "normal", False)
    name = words.reporter(rng, Source.APP)

Pure: every choice (template, numbers, names) comes from the ``rng`` passed in, so a
seeded plan gives the same texts every time.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Literal

from gridhub.domain.hierarchy import City, GridKind
from gridhub.intake import Source
from gridhub.simulate import phrasebook as pb

Channel = Literal["hotline", "app", "patrol"]
#: The voice each intake channel speaks in.
CHANNELS: dict[Source, Channel] = {
    Source.HOTLINE_12345: "hotline",
    Source.HOTLINE_BUSINESS: "hotline",
    Source.APP: "app",
    Source.OPEN311: "app",
    Source.PATROL: "patrol",
}
SLOT = re.compile(r"\{(\w+)\}")
_SCHOOL_WORDS = ("小学", "中学", "幼儿园", "学校")
_MARKET_WORDS = ("商圈", "市场")


@dataclass(frozen=True)
class Place:
    """The names around one grid that texts mention."""

    city: str
    township: str
    township_stem: str  # 白旗 of 白旗镇
    street_township: bool  # a 街道 (urban schools are numbered city schools)
    village: str
    stem: str  # 合泉 of 合泉村
    urban: bool  # a community rather than a village
    natural: str | None  # 合泉村彭家屯 (a rural grid's natural village)
    unit: str | None  # an exclusive grid's school, enterprise or market
    unit_kind: Literal["company", "school", "market"] | None


def _strip(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def place_of(city: City, grid_code: str) -> Place:
    """The :class:`Place` of ``grid_code`` in ``city``."""
    grid = city.grids[grid_code]
    village = city.villages[grid.village]
    township = city.townships[village.township]
    natural = unit = None
    unit_kind: Literal["company", "school", "market"] | None = None
    name = _strip(grid.name_zh, ("专属网格", "网格"))
    if grid.kind == GridKind.EXCLUSIVE:
        unit = name
        if any(w in name for w in _SCHOOL_WORDS):
            unit_kind = "school"
        elif any(w in name for w in _MARKET_WORDS):
            unit_kind = "market"
        else:
            unit_kind = "company"
    elif grid.kind == GridKind.RURAL and name != village.name_zh:
        natural = name
    return Place(
        city=city.name_zh,
        township=township.name_zh,
        township_stem=_strip(township.name_zh, ("街道", "镇", "乡")),
        street_township=township.kind == "street",
        village=village.name_zh,
        stem=_strip(village.name_zh, ("社区", "村")),
        urban=village.kind == "community",
        natural=natural,
        unit=unit,
        unit_kind=unit_kind,
    )


class Slots(dict[str, str]):
    """The values of one text's ``{slot}`` placeholders, each drawn on first use (so a slot
    used twice reads the same, and only the slots a template uses consume randomness)."""

    def __init__(self, rng: random.Random, place: Place, category_name: str) -> None:
        super().__init__()
        self.rng = rng
        self.where = place
        self.category_name = category_name

    def __missing__(self, key: str) -> str:
        value = self._draw(key)
        self[key] = value
        return value

    def _draw(self, key: str) -> str:
        rng, p = self.rng, self.where
        if key in pb.NUMBERS:
            low, high, step = pb.NUMBERS[key]
            return str(rng.randrange(low, high + 1, step))
        if key in pb.CHOICES:
            return rng.choice(pb.CHOICES[key])
        match key:
            case "city" | "township" | "village":
                return str(getattr(p, key))
            case "category":
                return self.category_name
            case "resident":
                return "居民" if p.urban else "村民"
            case "place":
                if p.unit is not None:
                    return p.unit if p.unit_kind == "market" else f"{p.unit}附近"
                return p.natural or p.village
            case "home":
                if p.urban:
                    return f"{p.village}{self['building']}号楼{self['unit']}单元"
                return p.natural or f"{p.village}{rng.choice(pb.NUMERALS[:8])}组"
            case "company":
                if p.unit_kind == "company" and p.unit:
                    return p.unit
                return f"{p.city}{p.stem}{self['industry']}有限公司"
            case "school":
                if p.unit_kind == "school" and p.unit:
                    return p.unit
                if p.street_township:
                    return f"{p.city}第{rng.choice(pb.NUMERALS)}小学"
                return p.township_stem + rng.choice(("中心小学", "中学"))
            case "market":
                if p.unit_kind == "market" and p.unit:
                    return p.unit
                return f"{p.stem}商圈" if p.urban else f"{p.township_stem}集贸市场"
            case "neighbor":
                return "老" + surname(rng)
            case "elder":
                return surname(rng) + rng.choice(("大爷", "大娘"))
        raise KeyError(f"unknown slot {{{key}}} in a phrasebook template")


def surname(rng: random.Random) -> str:
    """A common surname, drawn by frequency."""
    names = [s for s, _ in pb.SURNAMES]
    return rng.choices(names, weights=[w for _, w in pb.SURNAMES])[0]


def fits(template: str, urban: bool) -> bool:
    """Whether ``template`` (with its optional ``U|`` / ``R|`` tag) suits the place."""
    if template.startswith("U|"):
        return urban
    if template.startswith("R|"):
        return not urban
    return True


def untagged(template: str) -> str:
    """``template`` without its ``U|`` / ``R|`` tag."""
    return template[2:] if template[:2] in ("U|", "R|") else template


def entry_of(category: str) -> dict[str, tuple[str, ...]]:
    """The phrasebook entry of ``category``, or the fallback for unknown categories."""
    return pb.CATEGORIES.get(category) or pb.FALLBACK


class Phrasebook:
    """Renders texts and reporter names for one city's matters."""

    def __init__(self, city: City) -> None:
        self.city = city
        self._places: dict[str, Place] = {}

    def place(self, grid: str) -> Place:
        """The (cached) :class:`Place` of ``grid``."""
        found = self._places.get(grid)
        if found is None:
            found = self._places[grid] = place_of(self.city, grid)
        return found

    def slots(self, rng: random.Random, category: str, grid: str) -> Slots:
        """Fresh slots for one text of a matter of ``category`` in ``grid``."""
        cat = self.city.categories.get(category)
        return Slots(rng, self.place(grid), cat.name_zh if cat else category)

    def render(self, rng: random.Random, template: str, category: str, grid: str) -> str:
        """``template`` with its slots filled for a matter of ``category`` in ``grid``."""
        return untagged(template).format_map(self.slots(rng, category, grid))

    def compose(
        self,
        rng: random.Random,
        category: str,
        grid: str,
        source: Source,
        urgency: str,
        solved_on_spot: bool = False,
    ) -> str:
        """The description of one matter, as its channel would put it."""
        channel = CHANNELS[source]
        urban = self.place(grid).urban
        entry = entry_of(category)
        # a patrol solved on the spot says so in its closing; whole reports ask for help
        whole = [] if solved_on_spot else [t for t in entry.get(channel, ()) if fits(t, urban)]
        issues = [t for t in entry["issues"] if fits(t, urban)] or list(entry["issues"])
        cat = self.city.categories.get(category)
        business = (
            source == Source.HOTLINE_BUSINESS and cat is not None and cat.group == "enterprise"
        )
        frame = pb.FRAMES["hotline-business" if business else channel]
        pick = rng.randrange(len(whole) + len(issues))
        slots = self.slots(rng, category, grid)
        if pick < len(whole):
            text = untagged(whole[pick]).format_map(slots)
        else:
            opening = rng.choice(frame["opening"])
            closing_key = "closing_solved" if solved_on_spot and channel == "patrol" else "closing"
            closing = rng.choice(frame[closing_key])
            issue = untagged(issues[pick - len(whole)])
            text = f"{opening}{issue}。{closing}".format_map(slots)
        if urgency == "urgent" and not solved_on_spot:
            text += rng.choice(frame["urgent"])
        if rng.random() < pb.SPECIAL_SHARE:
            text += rng.choice(pb.SPECIAL)
        return text

    def reporter(self, rng: random.Random, source: Source) -> str:
        """A plausible reporter's name; some hotline callers leave only 王先生 / 李女士."""
        family = surname(rng)
        female = rng.random() < 0.5
        if CHANNELS[source] == "hotline" and rng.random() < pb.SURNAME_ONLY_SHARE:
            return family + ("女士" if female else "先生")
        pool = pb.GIVEN_FEMALE if female else pb.GIVEN_MALE
        size = 1 if rng.random() < 0.3 else 2
        return family + "".join(rng.choice(pool) for _ in range(size))

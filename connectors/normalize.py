"""Normalisation shared by every channel: clean text, resolve a location, build the matter.

    gaz = Gazetteer(city)
    loc = gaz.resolve(grid=None, lat=44.41, lon=126.96, address=None, prefix="location.")
    matter = build_matter(city, source=Source.APP, source_id="A-1", category="LIV-HEATING",
                          grid=loc.grid, description=text, lat=loc.lat, lon=loc.lon)

Citizen text is stored as text: C0 control characters other than newline and tab are
removed, HTML stays literal (``<script>`` is kept as those characters, never interpreted).
Every refusal is an :class:`~connectors.errors.IntakeError` naming the channel's field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from pydantic import ValidationError

from connectors.errors import IntakeError, invalid, validation_error
from gridhub.domain.hierarchy import City
from gridhub.intake import IntakeMatter, Source, check_against_city, matter_id_for

#: The city's local time, for call records exported without a zone (China has one zone).
LOCAL_TZ = timezone(timedelta(hours=8))
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
GRIDS_HINT = "valid codes are listed at GET /v1/reference/grids?village=<village code>"


def clean_text(text: str | None) -> str | None:
    """``text`` with C0 control characters (except \\n and \\t) and DEL removed, trimmed."""
    if text is None:
        return None
    return _CONTROL.sub("", text).strip()


def to_utc(when: datetime | None, field: str) -> datetime:
    """A received time in UTC: naive times are city-local; times in the future are refused."""
    now = datetime.now(UTC)
    if when is None:
        return now
    if when.tzinfo is None:
        when = when.replace(tzinfo=LOCAL_TZ)
    when = when.astimezone(UTC)
    if when > now + timedelta(minutes=5):
        raise invalid([(field, f"{when.isoformat()} is in the future")])
    return when


@dataclass(frozen=True)
class Location:
    """Where a matter is: always a grid; coordinates and address when the channel gave them."""

    grid: str
    lat: float | None = None
    lon: float | None = None
    address: str | None = None


class Gazetteer:
    """Resolves a grid code, coordinates or address text to a grid of one city."""

    def __init__(self, city: City) -> None:
        self.city = city
        # longest names first, so "光明社区第一网格" wins over "光明社区"
        self._grid_names = sorted(
            ((g.name_zh, g.code) for g in city.grids.values()), key=lambda p: -len(p[0])
        )
        grids_of: dict[str, list[str]] = {}
        for grid in city.grids.values():
            grids_of.setdefault(grid.village, []).append(grid.code)
        self.grids_of_village = {v: sorted(gs) for v, gs in grids_of.items()}
        names: list[tuple[str, str]] = []
        for village in city.villages.values():
            names.append((village.name_zh, village.code))
            names.append((village.name_en.lower(), village.code))
        self._village_names = sorted(names, key=lambda p: -len(p[0]))

    def resolve(
        self,
        *,
        grid: str | None,
        lat: float | None,
        lon: float | None,
        address: str | None,
        prefix: str = "",
    ) -> Location:
        """The location of a submission; raise a 422 naming ``prefix + field`` when it cannot
        be placed in the city."""
        city = self.city
        address = clean_text(address) or None
        if (lat is None) != (lon is None):
            missing = "lon" if lon is None else "lat"
            raise invalid([(prefix + missing, "lat and lon must be given together")])
        if lat is not None and lon is not None and not city.bbox.contains(lat, lon):
            b = city.bbox
            raise invalid(
                [
                    (
                        prefix + "lat",
                        f"({lat}, {lon}) is outside {city.name_en} "
                        f"(lat {b.min_lat}..{b.max_lat}, lon {b.min_lon}..{b.max_lon})",
                    )
                ]
            )
        if grid is not None:
            grid = grid.strip()
            if grid not in city.grids:
                raise invalid([(prefix + "grid", f"unknown grid {grid!r}; {GRIDS_HINT}")])
            return Location(grid, lat, lon, address)
        if lat is not None and lon is not None:
            found = city.nearest_grid(lat, lon)
            assert found is not None  # inside the bbox, checked above
            return Location(found, lat, lon, address)
        if address:
            return Location(self._from_address(address, prefix), None, None, address)
        raise invalid(
            [
                (
                    prefix + "grid",
                    "a location is required: a grid code, lat and lon, "
                    f"or an address naming a grid or village; {GRIDS_HINT}",
                )
            ]
        )

    def _from_address(self, address: str, prefix: str) -> str:
        for name, code in self._grid_names:
            if name and name in address:
                return code
        lowered = address.lower()
        for name, village in self._village_names:
            if name and name in lowered:
                grids = self.grids_of_village.get(village, [])
                if len(grids) == 1:
                    return grids[0]
                message = (
                    f"the address names village {village} which has {len(grids)} grids; "
                    f"give a grid code (GET /v1/reference/grids?village={village}) "
                    "or coordinates"
                )
                raise invalid([(prefix + "address", message)])
        raise invalid(
            [
                (
                    prefix + "address",
                    "no grid or village of the city is named in the "
                    f"address; give a grid code or coordinates; {GRIDS_HINT}",
                )
            ]
        )


def build_matter(
    city: City,
    *,
    source: Source,
    source_id: str,
    category: str,
    description: str,
    location: Location,
    received_at: datetime | None = None,
    urgency: str | None = None,
    reporter: Mapping[str, Any] | None = None,
    attachments: list[str] | None = None,
    worker_id: str | None = None,
    solved_on_spot: bool = False,
    result: str | None = None,
    fields: Mapping[str, str] | None = None,
) -> IntakeMatter:
    """The :class:`IntakeMatter` of one submission, checked against ``city``.

    ``fields`` maps intake field names to the channel's own names (e.g. ``description`` →
    ``content``) so errors name what the client sent.
    """
    names = {"grid": "grid", "lat": "lat", **(fields or {})}
    text = clean_text(description) or ""
    if not text:
        raise invalid(
            [
                (
                    names.get("description", "description"),
                    "must contain text (control characters are removed)",
                )
            ]
        )
    contact = {k: clean_text(v) or None for k, v in (reporter or {}).items() if v}
    data: dict[str, Any] = {
        "matter_id": matter_id_for(source.value, source_id),
        "source": source,
        "source_id": source_id,
        "received_at": to_utc(received_at, names.get("received_at", "received_at")),
        "category": category.strip(),
        "urgency": (urgency or "normal").strip(),
        "grid": location.grid,
        "description": text,
        "address": location.address,
        "lat": location.lat,
        "lon": location.lon,
        "reporter": {k: v for k, v in contact.items() if v} or None,
        "attachments": attachments or [],
        "worker_id": worker_id,
        "solved_on_spot": solved_on_spot,
        "result": clean_text(result) or None,
    }
    try:
        matter = IntakeMatter.model_validate(data)
    except ValidationError as exc:
        err = validation_error(exc)
        raise _renamed(err, names) from None
    problems = check_against_city(matter, city)
    if problems:
        raise invalid([(names.get(f, f), m) for f, m in problems])
    return matter


def _renamed(err: IntakeError, names: Mapping[str, str]) -> IntakeError:
    def rename(field: str) -> str:
        head, _, rest = field.partition(".")
        new = names.get(head, head)
        return f"{new}.{rest}" if rest else new

    details = [(rename(f), m) for f, m in err.details] or [(rename(err.field or "body"), "")]
    return invalid(details, err.status)

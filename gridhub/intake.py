"""The one intake schema: what every connector publishes to ``matters.intake``.

Connectors normalise their channel's input into :class:`IntakeMatter`, check it against the
city with :func:`check_against_city`, and publish ``encode(intake_event(m))``. The stream
processors read it back with :func:`parse_intake`. Matter ids are derived from
(source, source_id), so a repeated submission always names the same matter.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from gridhub.cloudevents import CloudEvent, DecodeError, register
from gridhub.domain.hierarchy import City

INTAKE_EVENT = "matter.intake"
INTAKE_VERSION = 1
register(INTAKE_EVENT, INTAKE_VERSION)

MAX_DESCRIPTION = 4000
MAX_ATTACHMENTS = 10

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Source(StrEnum):
    """The intake channels of the seed, plus Open311."""

    HOTLINE_12345 = "hotline-12345"  # 12345 政务服务便民热线
    HOTLINE_BUSINESS = "hotline-business"  # 营商环境监督服务热线
    APP = "app"  # 暖心舒兰 citizen app
    PATROL = "patrol"  # 网格员巡查走访
    OPEN311 = "open311"  # Open311 GeoReport v2 clients


class Reporter(BaseModel):
    """The citizen who reported; private: never shown to roles that do not need it."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class IntakeMatter(BaseModel):
    """One accepted matter, normalised from any channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    matter_id: ShortText
    source: Source
    source_id: ShortText
    received_at: datetime
    category: ShortText
    urgency: ShortText = "normal"
    grid: ShortText
    description: Annotated[str, StringConstraints(min_length=1, max_length=MAX_DESCRIPTION)]
    address: Annotated[str, StringConstraints(max_length=500)] | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    reporter: Reporter | None = None
    attachments: Annotated[list[AnyHttpUrl], Field(max_length=MAX_ATTACHMENTS)] = []
    worker_id: ShortText | None = None
    solved_on_spot: bool = False
    result: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)] | None = None


def matter_id_for(source: str, source_id: str) -> str:
    """The stable matter id of (source, source_id): ``M`` + 20 base32 characters."""
    digest = hashlib.sha256(f"{source}\x1f{source_id}".encode()).digest()
    return "M" + base64.b32encode(digest[:15]).decode().rstrip("=")


def check_against_city(matter: IntakeMatter, city: City) -> list[tuple[str, str]]:
    """The (field, problem) pairs that make ``matter`` invalid for ``city``; empty when valid."""
    problems: list[tuple[str, str]] = []
    if matter.category not in city.categories:
        problems.append(
            (
                "category",
                f"unknown category {matter.category!r}; valid codes are "
                "listed at GET /v1/reference/categories",
            )
        )
    if matter.grid not in city.grids:
        problems.append(
            (
                "grid",
                f"unknown grid {matter.grid!r}; valid codes are listed at GET /v1/reference/grids",
            )
        )
    if matter.urgency not in city.urgencies:
        problems.append(
            ("urgency", f"unknown urgency {matter.urgency!r}; one of {', '.join(city.urgencies)}")
        )
    if (
        matter.lat is not None
        and matter.lon is not None
        and not city.bbox.contains(matter.lat, matter.lon)
    ):
        problems.append(("lat", f"({matter.lat}, {matter.lon}) is outside {city.name_en}"))
    return problems


def intake_event(matter: IntakeMatter) -> CloudEvent:
    """The CloudEvent to publish for ``matter``: keyed by matter id, id derived from it."""
    return CloudEvent.new(
        INTAKE_EVENT,
        INTAKE_VERSION,
        source=f"/intake/{matter.source.value}",
        subject=matter.matter_id,
        id=f"{matter.matter_id}:intake",
        data=matter.model_dump(mode="json", exclude_none=True),
    )


def parse_intake(event: CloudEvent) -> IntakeMatter:
    """Read an intake event back; raise :class:`DecodeError` naming the bad field."""
    if event.name != INTAKE_EVENT:
        raise DecodeError(f"expected {INTAKE_EVENT}, got {event.type}")
    try:
        return IntakeMatter.model_validate(event.data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise DecodeError(f"intake field {where}: {first['msg']}") from None


def intake_fields() -> dict[str, Any]:
    """The JSON schema of the intake record, for docs and the CLI."""
    return IntakeMatter.model_json_schema()

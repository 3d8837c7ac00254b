"""Citizen app channel (暖心舒兰): a citizen's submission from the app.

``POST /v1/app/submissions`` with a :class:`Submission`. The location is a grid code, or
coordinates, or address text; the connector resolves the latter two to a grid where the
city data file allows (see :class:`connectors.normalize.Gazetteer`).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import Field

from connectors.channels.common import (
    Address,
    Contact,
    Id,
    Input,
    Lat,
    Lon,
    LongText,
    Photos,
    Short,
    accepted_response,
    request_body,
)
from connectors.http import IntakeCaller, read_json, runtime
from connectors.normalize import build_matter
from gridhub.intake import Source

router = APIRouter(tags=["citizen app"])


class AppLocation(Input):
    """Where: a ``grid`` code, or ``lat`` and ``lon``, or an ``address`` text."""

    grid: Short | None = None
    lat: Lat | None = None
    lon: Lon | None = None
    address: Address | None = None


class Submission(Input):
    """One report from the citizen app; ``submission_id`` is unique within the app."""

    submission_id: Id
    submitted_at: datetime | None = None
    category: Short
    urgency: Short | None = None
    description: LongText
    location: AppLocation
    photos: Photos = Field(default_factory=list)
    contact: Contact | None = None


@router.post("/v1/app/submissions", status_code=201, openapi_extra=request_body(Submission))
async def submit(request: Request, caller: IntakeCaller) -> Response:
    """Accept one citizen submission; 201 with the matter id (200 and the same id if known)."""
    body = await read_json(request, Submission)
    rt = runtime(request)
    loc = body.location
    location = rt.gazetteer.resolve(
        grid=loc.grid, lat=loc.lat, lon=loc.lon, address=loc.address, prefix="location."
    )
    matter = build_matter(
        rt.city,
        source=Source.APP,
        source_id=body.submission_id,
        category=body.category,
        urgency=body.urgency,
        description=body.description,
        location=location,
        received_at=body.submitted_at,
        reporter=body.contact.model_dump() if body.contact else None,
        attachments=[str(p) for p in body.photos],
        fields={
            "grid": "location.grid",
            "lat": "location.lat",
            "attachments": "photos",
            "received_at": "submitted_at",
            "reporter": "contact",
        },
    )
    result = await rt.service.submit(matter)
    return accepted_response(result, {"grid": matter.grid})

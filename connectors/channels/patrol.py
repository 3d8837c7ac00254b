"""Grid-worker patrol channel (网格员巡查走访): what a worker found on the daily round.

``POST /v1/patrol/reports`` with a :class:`PatrolReport`. A problem solved on the spot is
recorded as resolved at the grid (``solved_on_spot`` with the ``result``), and still
counts as a matter; otherwise it needs handling and goes the normal way.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import Field

from connectors.channels.common import (
    Address,
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
from connectors.errors import invalid
from connectors.http import IntakeCaller, read_json, runtime
from connectors.normalize import build_matter, clean_text
from gridhub.intake import Source

router = APIRouter(tags=["patrol"])


class PatrolReport(Input):
    """One finding of a grid worker's patrol; ``report_id`` is unique for the worker app."""

    report_id: Id
    worker_id: Id
    grid: Short
    observed_at: datetime | None = None
    category: Short
    urgency: Short | None = None
    found: LongText
    solved_on_spot: bool
    result: LongText | None = None
    address: Address | None = None
    lat: Lat | None = None
    lon: Lon | None = None
    photos: Photos = Field(default_factory=list)


@router.post("/v1/patrol/reports", status_code=201, openapi_extra=request_body(PatrolReport))
async def report(request: Request, caller: IntakeCaller) -> Response:
    """Accept one patrol finding; 201 with the matter id (200 and the same id if known)."""
    body = await read_json(request, PatrolReport)
    if body.solved_on_spot and not clean_text(body.result):
        raise invalid([("result", "is required when solved_on_spot is true: say what was done")])
    rt = runtime(request)
    location = rt.gazetteer.resolve(
        grid=body.grid, lat=body.lat, lon=body.lon, address=body.address
    )
    matter = build_matter(
        rt.city,
        source=Source.PATROL,
        source_id=f"{body.worker_id}/{body.report_id}",
        category=body.category,
        urgency=body.urgency,
        description=body.found,
        location=location,
        received_at=body.observed_at,
        attachments=[str(p) for p in body.photos],
        worker_id=body.worker_id,
        solved_on_spot=body.solved_on_spot,
        result=body.result if body.solved_on_spot else None,
        fields={"description": "found", "attachments": "photos", "received_at": "observed_at"},
    )
    result = await rt.service.submit(matter)
    state = "resolved" if matter.solved_on_spot else "accepted"
    return accepted_response(result, {"state": state})

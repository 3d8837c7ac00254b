"""Hotline channel: call records of the 12345 and business-environment hotlines.

A call record comes as the call-centre system exports it (see :class:`CallRecord`), one at
a time over HTTP (``POST /v1/hotlines/{hotline}/calls``, hotline ``12345`` or ``business``)
or as a whole export file through ``gridhub import FILE --source hotline-12345``
(:mod:`connectors.importer`). Both go through :func:`call_matter`, so a record means the
same either way.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from connectors.channels.common import (
    Address,
    Id,
    Input,
    Lat,
    Lon,
    LongText,
    Short,
    accepted_response,
    request_body,
)
from connectors.errors import IntakeError
from connectors.http import IntakeCaller, read_json, runtime
from connectors.normalize import Gazetteer, build_matter
from gridhub.intake import IntakeMatter, Source

router = APIRouter(tags=["hotline"])
HOTLINES: dict[str, Source] = {"12345": Source.HOTLINE_12345, "business": Source.HOTLINE_BUSINESS}
HOTLINE_SOURCES = frozenset(HOTLINES.values())


class CallRecord(Input):
    """One call as a call-centre system records it; ``call_id`` is its id in that system.

    ``call_time`` without a zone is city-local time. Location: ``grid``, or ``lat`` and
    ``lon``, or an ``address`` naming a grid or village of the city.
    """

    call_id: Id
    call_time: datetime | None = None
    category: Short
    urgency: Short | None = None
    content: LongText
    caller_name: Short | None = None
    caller_phone: Short | None = None
    grid: Short | None = None
    address: Address | None = None
    lat: Lat | None = None
    lon: Lon | None = None


def call_matter(gazetteer: Gazetteer, source: Source, call: CallRecord) -> IntakeMatter:
    """The intake matter of one call record (raises IntakeError naming the record's field)."""
    location = gazetteer.resolve(grid=call.grid, lat=call.lat, lon=call.lon, address=call.address)
    return build_matter(
        gazetteer.city,
        source=source,
        source_id=call.call_id,
        category=call.category,
        urgency=call.urgency,
        description=call.content,
        location=location,
        received_at=call.call_time,
        reporter={"name": call.caller_name, "phone": call.caller_phone},
        fields={"description": "content", "received_at": "call_time"},
    )


@router.post(
    "/v1/hotlines/{hotline}/calls", status_code=201, openapi_extra=request_body(CallRecord)
)
async def submit_call(hotline: str, request: Request, caller: IntakeCaller) -> Response:
    """Accept one call record; 201 with the matter id (200 and the same id if known)."""
    source = HOTLINES.get(hotline)
    if source is None:
        raise IntakeError(
            404,
            "not_found",
            f"unknown hotline {hotline!r}; one of {', '.join(HOTLINES)}",
            "hotline",
        )
    call = await read_json(request, CallRecord)
    rt = runtime(request)
    result = await rt.service.submit(call_matter(rt.gazetteer, source, call))
    return accepted_response(result)

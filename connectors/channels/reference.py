"""Reference data for clients: the valid category and grid codes error messages point to.

``GET /v1/reference/categories``, ``GET /v1/reference/villages?township=...`` and
``GET /v1/reference/grids?village=...``; public, rate-limited per client address.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from connectors.channels.common import json_response
from connectors.errors import IntakeError
from connectors.http import PublicCaller, runtime

router = APIRouter(prefix="/v1/reference", tags=["reference"])


@router.get("/categories")
async def categories(request: Request, caller: PublicCaller) -> Response:
    """Every category code with its names, group and the urgencies it knows."""
    city = runtime(request).city
    return json_response(
        {
            "categories": [
                {
                    "code": c.code,
                    "name_zh": c.name_zh,
                    "name_en": c.name_en,
                    "group": c.group,
                    "urgencies": sorted(c.sla),
                }
                for c in city.categories.values()
            ],
            "urgencies": list(city.urgencies),
        }
    )


@router.get("/villages")
async def villages(request: Request, caller: PublicCaller, township: str | None = None) -> Response:
    """Villages and communities, optionally of one township."""
    city = runtime(request).city
    if township is not None and township not in city.townships:
        raise IntakeError(
            404,
            "not_found",
            f"unknown township {township!r}; valid codes: {', '.join(sorted(city.townships))}",
            "township",
        )
    return json_response(
        {
            "villages": [
                {
                    "code": v.code,
                    "name_zh": v.name_zh,
                    "name_en": v.name_en,
                    "township": v.township,
                    "kind": v.kind,
                }
                for v in city.villages.values()
                if township is None or v.township == township
            ]
        }
    )


@router.get("/grids")
async def grids(request: Request, caller: PublicCaller, village: str | None = None) -> Response:
    """Grid codes, optionally of one village (GET /v1/reference/villages lists those)."""
    rt = runtime(request)
    if village is not None and village not in rt.city.villages:
        raise IntakeError(
            404,
            "not_found",
            f"unknown village {village!r}; valid codes are listed at GET /v1/reference/villages",
            "village",
        )
    codes = rt.gazetteer.grids_of_village.get(village, []) if village else sorted(rt.city.grids)
    return json_response(
        {
            "grids": [
                {
                    "code": g.code,
                    "name_zh": g.name_zh,
                    "village": g.village,
                    "kind": g.kind.value,
                    "lat": g.lat,
                    "lon": g.lon,
                }
                for g in (rt.city.grids[c] for c in codes)
            ]
        }
    )

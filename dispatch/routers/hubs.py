"""Village/community and township hubs: their open matters, report up (上报), the township
whistle (街乡吹哨) and deciding extension requests (延期审批)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends
from fastapi.responses import Response

from dispatch.actions import act
from dispatch.auth import CITY_ROLES, OWNER_ROLES, require
from dispatch.deps import Services, Svc
from dispatch.errors import COMMAND_ERRORS, ERRORS, ApiError, not_found
from dispatch.models import CommandOut, DecisionIn, MatterPage, ReasonIn, WhistleIn
from dispatch.queries import Filters, page_of
from dispatch.routers.common import (
    CategoryQuery,
    LevelQuery,
    Limit,
    MatterIdPath,
    Offset,
    StateQuery,
    UnitPath,
)
from gridhub.auth import Principal
from gridhub.domain.commands import DecideExtension, ReportUp, Whistle

router = APIRouter(prefix="/v1", tags=["hubs"])
CMD: dict[str, Any] = {"responses": COMMAND_ERRORS, "response_model": CommandOut}
DECIDERS = ("township_hub", "village_hub", "supervisor", "leader", "city_operator")


def _may_read_hub(p: Principal, kind: str, code: str, svc: Services) -> bool:
    if p.role in CITY_ROLES:
        return True
    if p.scope_kind == kind and p.scope_code == code:
        return True
    # a township hub may look at its own villages' lists
    village = svc.city.villages.get(code)
    return (
        kind == "village"
        and p.role == "township_hub"
        and village is not None
        and village.township == p.scope_code
    )


@router.get(
    "/hubs/{kind}/{code}/open",
    response_model=MatterPage,
    responses=ERRORS,
    summary="A hub's open matters, deadline first",
)
async def open_matters(
    p: Annotated[Principal, Depends(require("township_hub", "village_hub", *CITY_ROLES))],
    svc: Svc,
    kind: Literal["township", "village"],
    code: UnitPath,
    state: StateQuery = None,
    warning_level: LevelQuery = None,
    category: CategoryQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    """Open matters in the area of township or village ``code`` (whoever holds them now); a
    hub sees only its own area (and a township its villages')."""
    units = svc.city.townships if kind == "township" else svc.city.villages
    if code not in units or not _may_read_hub(p, kind, code, svc):
        raise not_found(kind)
    key = svc.keys.hub_open(kind, code)
    page = await page_of(svc, p, [key], Filters(state, warning_level, category), limit, offset)
    return Response(orjson.dumps(page), media_type="application/json")


@router.post("/matters/{matter_id}/report-up", summary="Report up one tier (上报)", **CMD)
async def report_up(
    p: Annotated[Principal, Depends(require(*OWNER_ROLES))],
    svc: Svc,
    matter_id: MatterIdPath,
    body: ReasonIn,
) -> Response:
    """The holder cannot solve it: village → township → city platform → department → leader."""
    return await act(svc, p, matter_id, ReportUp, reason=body.reason)


@router.post("/matters/{matter_id}/whistle", summary="Township whistle (街乡吹哨)", **CMD)
async def whistle(
    p: Annotated[Principal, Depends(require("township_hub", "city_operator"))],
    svc: Svc,
    matter_id: MatterIdPath,
    body: WhistleIn,
) -> Response:
    """Summon named departments; each must report in by ``report_in_due``."""
    for i, code in enumerate(body.departments):
        if code not in svc.city.departments:
            raise ApiError(422, "invalid", f"unknown department {code!r}", f"departments.{i}")
    return await act(
        svc,
        p,
        matter_id,
        Whistle,
        departments=tuple(body.departments),
        report_in_due=body.report_in_due,
        note=body.note,
    )


@router.post(
    "/matters/{matter_id}/extension-decision",
    summary="Approve or refuse a pending extension (延期审批)",
    **CMD,
)
async def extension_decision(
    p: Annotated[Principal, Depends(require(*DECIDERS))],
    svc: Svc,
    matter_id: MatterIdPath,
    body: DecisionIn,
) -> Response:
    """Decide the holder's extension request; hubs decide for matters of their area."""
    return await act(svc, p, matter_id, DecideExtension, approve=body.approve, comment=body.comment)

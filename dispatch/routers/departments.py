"""Departments (and every other holder): the queue, and the owner's actions on a matter —
sign for (签收), report in (部门报到), progress (办理), resolve (办结), return (退单) and ask for
an extension (延期申请)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends
from fastapi.responses import Response

from dispatch.actions import act
from dispatch.auth import CITY_ROLES, OWNER_ROLES, require, require_unit
from dispatch.deps import Svc
from dispatch.errors import COMMAND_ERRORS, ERRORS, not_found
from dispatch.models import (
    CommandOut,
    ExtensionIn,
    MatterPage,
    ProgressIn,
    ReasonIn,
    ReportInIn,
    ResolveIn,
)
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
from gridhub.domain.commands import (
    AddProgress,
    ReportIn,
    RequestExtension,
    Resolve,
    Return,
    SignFor,
)

router = APIRouter(prefix="/v1", tags=["departments"])
CMD: dict[str, Any] = {"responses": COMMAND_ERRORS, "response_model": CommandOut}


@router.get(
    "/departments/{code}/queue",
    response_model=MatterPage,
    responses=ERRORS,
    summary="A department's task queue, deadline first",
)
async def queue(
    p: Annotated[Principal, Depends(require("department", *CITY_ROLES))],
    svc: Svc,
    code: UnitPath,
    state: StateQuery = None,
    warning_level: LevelQuery = None,
    category: CategoryQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    """Open tasks of department ``code`` ordered by resolve deadline; a department sees only
    its own queue."""
    if code not in svc.city.departments:
        raise not_found("department")
    require_unit(p, "department", code)
    page = await page_of(
        svc, p, [svc.keys.dept_queue(code)], Filters(state, warning_level, category), limit, offset
    )
    return Response(orjson.dumps(page), media_type="application/json")


@router.post("/matters/{matter_id}/sign-for", summary="Sign for a matter (签收)", **CMD)
async def sign_for(
    p: Annotated[Principal, Depends(require(*OWNER_ROLES))],
    svc: Svc,
    matter_id: MatterIdPath,
) -> Response:
    """The holder acknowledges receipt."""
    return await act(svc, p, matter_id, SignFor)


@router.post("/matters/{matter_id}/report-in", summary="Department report-in (部门报到)", **CMD)
async def report_in(
    p: Annotated[Principal, Depends(require("department"))],
    svc: Svc,
    matter_id: MatterIdPath,
    body: ReportInIn,
) -> Response:
    """A department summoned by a township whistle checks in (for itself)."""
    return await act(svc, p, matter_id, ReportIn, department=p.scope_code, note=body.note)


@router.post("/matters/{matter_id}/progress", summary="Add a progress note (办理)", **CMD)
async def progress(
    p: Annotated[Principal, Depends(require(*OWNER_ROLES, "grid_worker"))],
    svc: Svc,
    matter_id: MatterIdPath,
    body: ProgressIn,
) -> Response:
    """A note from the holder, a co-handling or summoned department, or the grid's worker."""
    return await act(svc, p, matter_id, AddProgress, note=body.note)


@router.post("/matters/{matter_id}/resolve", summary="Resolve with a result (办结)", **CMD)
async def resolve(
    p: Annotated[Principal, Depends(require(*OWNER_ROLES))],
    svc: Svc,
    matter_id: MatterIdPath,
    body: ResolveIn,
) -> Response:
    """The holder says it is done: result text and attachment URLs."""
    urls = tuple(str(u) for u in body.attachments)
    return await act(svc, p, matter_id, Resolve, result=body.result, attachments=urls)


@router.post("/matters/{matter_id}/return", summary="Return to the city platform (退单)", **CMD)
async def return_(
    p: Annotated[
        Principal, Depends(require("department", "township_hub", "village_hub", "leader"))
    ],
    svc: Svc,
    matter_id: MatterIdPath,
    body: ReasonIn,
) -> Response:
    """The holder sends the matter back (wrong owner), with a reason."""
    return await act(svc, p, matter_id, Return, reason=body.reason)


@router.post(
    "/matters/{matter_id}/extension-request", summary="Ask for more time (延期申请)", **CMD
)
async def extension_request(
    p: Annotated[Principal, Depends(require(*OWNER_ROLES))],
    svc: Svc,
    matter_id: MatterIdPath,
    body: ExtensionIn,
) -> Response:
    """The holder proposes a later resolve deadline, with a reason."""
    return await act(
        svc, p, matter_id, RequestExtension, reason=body.reason, proposed_due=body.proposed_due
    )

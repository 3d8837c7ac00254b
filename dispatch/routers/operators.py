"""City operators (and supervisors / leaders where the rules allow): assign (派单), forward
(转办), urge (催办), supervise (督办), escalate to a city leader, merge duplicates, close and
reopen."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from dispatch.actions import act
from dispatch.auth import load_view, read_view, require
from dispatch.deps import Svc
from dispatch.errors import COMMAND_ERRORS, ApiError
from dispatch.models import (
    AssignIn,
    CommandOut,
    EscalateIn,
    ForwardIn,
    MergeIn,
    NoteIn,
    ReasonIn,
)
from dispatch.routers.common import MatterIdPath
from gridhub.auth import Principal
from gridhub.domain.commands import (
    Assign,
    Close,
    EscalateToLeader,
    Forward,
    Merge,
    Reopen,
    Supervise,
    Urge,
)
from gridhub.domain.matter import Owner
from gridhub.domain.routing import owner_exists

router = APIRouter(prefix="/v1", tags=["operators"], responses=COMMAND_ERRORS)
CMD: dict[str, Any] = {"response_model": CommandOut}
SUPERVISING = ("city_operator", "supervisor", "leader")


@router.post("/matters/{matter_id}/assign", summary="Assign to an owner (派单)", **CMD)
async def assign(
    p: Annotated[Principal, Depends(require("city_operator", "township_hub"))],
    svc: Svc,
    matter_id: MatterIdPath,
    body: AssignIn,
) -> Response:
    """Give the matter to one hub, department, the city platform or a leader (also to
    reassign). A township hub may assign its township's matters to its own villages."""
    owner = Owner(kind=body.owner.kind, code=body.owner.code)
    if not owner_exists(owner, svc.city):
        raise ApiError(422, "invalid", f"unknown owner {owner}", "owner.code")
    return await act(svc, p, matter_id, Assign, owner=owner, note=body.note)


@router.post("/matters/{matter_id}/forward", summary="Forward to departments (转办)", **CMD)
async def forward(
    p: Annotated[Principal, Depends(require("city_operator"))],
    svc: Svc,
    matter_id: MatterIdPath,
    body: ForwardIn,
) -> Response:
    """Forward to one or more departments: the first is primary, the rest co-handle."""
    for i, code in enumerate(body.departments):
        if code not in svc.city.departments:
            raise ApiError(422, "invalid", f"unknown department {code!r}", f"departments.{i}")
    return await act(
        svc, p, matter_id, Forward, departments=tuple(body.departments), note=body.note
    )


@router.post("/matters/{matter_id}/urge", summary="Urge the holder (催办)", **CMD)
async def urge(
    p: Annotated[Principal, Depends(require(*SUPERVISING, "township_hub"))],
    svc: Svc,
    matter_id: MatterIdPath,
    body: NoteIn,
) -> Response:
    """A reminder to the holder (a township hub may urge its township's matters)."""
    return await act(svc, p, matter_id, Urge, note=body.note)


@router.post("/matters/{matter_id}/supervise", summary="Put under supervision (督办)", **CMD)
async def supervise(
    p: Annotated[Principal, Depends(require(*SUPERVISING))],
    svc: Svc,
    matter_id: MatterIdPath,
    body: NoteIn,
) -> Response:
    """Formal supervision of an (overdue) matter."""
    return await act(svc, p, matter_id, Supervise, note=body.note)


@router.post("/matters/{matter_id}/escalate", summary="Escalate to a city leader (重大疑难)", **CMD)
async def escalate(
    p: Annotated[Principal, Depends(require(*SUPERVISING))],
    svc: Svc,
    matter_id: MatterIdPath,
    body: EscalateIn,
) -> Response:
    """A city leader takes the matter over."""
    return await act(svc, p, matter_id, EscalateToLeader, reason=body.reason)


@router.post("/matters/{matter_id}/merge", summary="Merge a duplicate into another", **CMD)
async def merge(
    p: Annotated[Principal, Depends(require("city_operator"))],
    svc: Svc,
    matter_id: MatterIdPath,
    body: MergeIn,
) -> Response:
    """Fold this matter into ``into`` (this one becomes ``merged``)."""
    await load_view(svc, p, matter_id)
    if body.into == matter_id or await read_view(svc, body.into) is None:
        raise ApiError(422, "invalid", f"no other matter {body.into!r} to merge into", "into")
    return await act(svc, p, matter_id, Merge, view={}, into=body.into)


@router.post("/matters/{matter_id}/close", summary="Close a resolved matter", **CMD)
async def close(
    p: Annotated[Principal, Depends(require("city_operator", "supervisor"))],
    svc: Svc,
    matter_id: MatterIdPath,
    body: NoteIn,
) -> Response:
    """Close a resolved matter (final unless reopened)."""
    return await act(svc, p, matter_id, Close, note=body.note)


@router.post("/matters/{matter_id}/reopen", summary="Reopen to its last owner", **CMD)
async def reopen(
    p: Annotated[Principal, Depends(require(*SUPERVISING))],
    svc: Svc,
    matter_id: MatterIdPath,
    body: ReasonIn,
) -> Response:
    """Reopen a resolved or closed matter to its last owner, with a reason."""
    return await act(svc, p, matter_id, Reopen, reason=body.reason)

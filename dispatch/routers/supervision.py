"""Supervisors: the live list of warnings (yellow, red, escalations, grid alerts) and of
overdue matters, with filters. Urging and supervising from it use the operators' endpoints."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from dispatch.auth import CITY_ROLES, can_view, require
from dispatch.deps import Services, Svc, text
from dispatch.errors import ERRORS
from dispatch.models import MatterOut
from dispatch.routers.common import Limit, Offset
from gridhub.auth import Principal

router = APIRouter(prefix="/v1", tags=["supervision"], responses=ERRORS)
OVERDUE_LEVELS = frozenset({"red", "escalate"})


class AlertOut(BaseModel):
    """One warning (AlertMessage) with the matter it is about, when visible."""

    model_config = ConfigDict(extra="allow")
    id: str
    matter_id: str
    level: str
    kind: str
    target: str
    due_at: str
    fired_at: str
    township: str
    village: str
    department: str | None = None
    matter: MatterOut | None = None


class AlertPage(BaseModel):
    items: list[AlertOut]
    count: int
    next_offset: int | None = None


class OverduePage(BaseModel):
    items: list[MatterOut]
    count: int


def _alert_in_scope(p: Principal, alert: dict[str, Any]) -> bool:
    if p.role in CITY_ROLES:
        return True
    if p.role == "township_hub":
        return alert.get("township") == p.scope_code
    if p.role == "village_hub":
        return alert.get("village") == p.scope_code
    return False


async def _alerts(svc: Services) -> list[dict[str, Any]]:
    raw = await svc.redis.zrange(svc.keys.warnings(), 0, -1)
    out = []
    for member in raw:
        try:
            alert = orjson.loads(text(member))
        except orjson.JSONDecodeError:
            continue
        if isinstance(alert, dict):
            out.append(alert)
    return out


@router.get("/warnings", response_model=AlertPage, summary="Live warnings, earliest due first")
async def warnings(
    p: Annotated[Principal, Depends(require(*CITY_ROLES, "township_hub", "village_hub"))],
    svc: Svc,
    level: Literal["yellow", "red", "escalate", "grid_alert", "calendar"] | None = None,
    overdue: bool = Query(False, description="only red and escalation warnings"),
    kind: str | None = Query(None, max_length=64, description="sign_for, resolve, report_in, ..."),
    township: str | None = Query(None, max_length=64),
    department: str | None = Query(None, max_length=64),
    target: str | None = Query(None, max_length=64),
    with_matter: bool = Query(True, description="attach each matter's current view"),
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    """Active warnings in the caller's scope, filtered; a township sees its own township's."""
    picked = []
    for alert in await _alerts(svc):
        lvl = str(alert.get("level", ""))
        if level is not None and lvl != level and not lvl.startswith(level):
            continue
        if overdue and lvl not in OVERDUE_LEVELS and not lvl.startswith("escalat"):
            continue
        if kind is not None and alert.get("kind") != kind:
            continue
        if township is not None and alert.get("township") != township:
            continue
        if department is not None and alert.get("department") != department:
            continue
        if target is not None and alert.get("target") != target:
            continue
        if _alert_in_scope(p, alert):
            picked.append(alert)
    page = picked[offset : offset + limit]
    if with_matter and page:
        blobs = await svc.redis.mget([svc.keys.matter(a["matter_id"]) for a in page])
        for alert, blob in zip(page, blobs, strict=True):
            view = orjson.loads(blob) if blob else None
            if view is not None and can_view(p, view, svc.city):
                alert["matter"] = view
    more = offset + limit < len(picked)
    body = {"items": page, "count": len(page), "next_offset": offset + limit if more else None}
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/overdue", response_model=OverduePage, summary="Overdue and escalated matters")
async def overdue(
    p: Annotated[Principal, Depends(require(*CITY_ROLES, "township_hub", "village_hub"))],
    svc: Svc,
) -> Response:
    """Open matters at warning level red or escalated, in the caller's scope, from the live
    warnings."""
    ids: list[str] = []
    for alert in await _alerts(svc):
        mid = alert.get("matter_id")
        lvl = str(alert.get("level", ""))
        if (lvl in OVERDUE_LEVELS or lvl.startswith("escalat")) and mid and mid not in ids:
            ids.append(str(mid))
    items = []
    if ids:
        for blob in await svc.redis.mget([svc.keys.matter(i) for i in ids]):
            view = orjson.loads(blob) if blob else None
            if (
                view is not None
                and view.get("warning_level") in ("red", "escalated")
                and view.get("state") in ("accepted", "assigned", "signed_for", "in_progress")
                and can_view(p, view, svc.city)
            ):
                items.append(view)
    return Response(
        orjson.dumps({"items": items, "count": len(items)}), media_type="application/json"
    )

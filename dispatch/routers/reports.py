"""Leaders' reports: counters, the 三率 and average handling times by township, village,
department, category or city for a month; the month's notice (通报) as JSON, CSV or HTML."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from dispatch.auth import CITY_ROLES, require
from dispatch.deps import Services, Svc
from dispatch.errors import ERRORS, ApiError
from dispatch.reports.compute import rank
from dispatch.reports.load import month_rows
from dispatch.reports.render import notice_csv, notice_html, rows_csv
from gridhub.auth import Principal

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=ERRORS)
Month = Annotated[
    str, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM", examples=["2025-03"])
]
Dimension = Literal["township", "village", "department", "category", "city"]


class ReportRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    dimension: str
    code: str
    name: str
    accepted: int
    resolved: int
    closed: int
    completed: int
    on_time: int
    overdue: int
    rated: int
    completion_rate: float | None
    on_time_rate: float | None
    satisfaction_rate: float | None
    avg_sign_for_seconds: float | None
    avg_resolve_seconds: float | None


class KpiReport(BaseModel):
    month: str
    dimension: str
    rows: list[ReportRow]


def _visible_codes(svc: Services, p: Principal, dimension: str) -> list[str] | None:
    """None: all codes; otherwise the codes a scoped role may read (403 if none)."""
    if p.role in CITY_ROLES:
        return None
    if p.role == "township_hub" and dimension == "township":
        return [p.scope_code]
    if p.role == "township_hub" and dimension == "village":
        return list(svc.city.villages_of(p.scope_code))
    if p.role == "department" and dimension == "department":
        return [p.scope_code]
    raise ApiError(403, "forbidden", f"role {p.role} may not read {dimension} reports")


@router.get(
    "/kpis",
    response_model=KpiReport,
    responses={200: {"content": {"text/csv": {}}}},
    summary="Counters and the 三率 of a month by unit",
)
async def kpis(
    p: Annotated[Principal, Depends(require(*CITY_ROLES, "township_hub", "department"))],
    svc: Svc,
    month: Month,
    dimension: Dimension = "township",
    code: str | None = Query(None, max_length=64, description="only this unit"),
    format: Literal["json", "csv"] = "json",
) -> Response:
    """Accepted, resolved, closed, completion / on-time / satisfaction rates, overdue count
    and average time to sign for and to resolve, per unit of ``dimension``."""
    codes = _visible_codes(svc, p, dimension)
    if code is not None:
        codes = [code] if codes is None or code in codes else []
    rows = await month_rows(svc, dimension, month, codes)
    if format == "csv":
        return Response(
            rows_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="kpis-{dimension}-{month}.csv"'},
        )
    body = {"month": month, "dimension": dimension, "rows": rows}
    return Response(orjson.dumps(body), media_type="application/json")


class Notice(BaseModel):
    month: str
    city: dict[str, Any] | None
    townships: list[dict[str, Any]]
    departments: list[dict[str, Any]]


@router.get(
    "/notice",
    response_model=Notice,
    responses={200: {"content": {"text/csv": {}, "text/html": {}}}},
    summary="The month's city-wide notice (通报): rankings of departments and townships",
)
async def notice(
    p: Annotated[Principal, Depends(require(*CITY_ROLES))],
    svc: Svc,
    month: Month,
    format: Literal["json", "csv", "html"] = "html",
) -> Response:
    """Townships and departments ranked by completion, on-time and satisfaction rates."""
    sections = {
        "township": rank(await month_rows(svc, "township", month)),
        "department": rank(await month_rows(svc, "department", month)),
    }
    city_rows = await month_rows(svc, "city", month)
    city_row = city_rows[0] if city_rows else None
    if format == "csv":
        return Response(
            notice_csv(month, sections),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="notice-{month}.csv"'},
        )
    if format == "html":
        page = notice_html(svc.city.name_zh, month, sections, city_row)
        return Response(page, media_type="text/html; charset=utf-8")
    body = {
        "month": month,
        "city": city_row,
        "townships": sections["township"],
        "departments": sections["department"],
    }
    return Response(orjson.dumps(body), media_type="application/json")

"""Departments' webhooks: register, inspect (with delivery status) and remove."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from dispatch.auth import require, require_unit
from dispatch.deps import Services, Svc, text
from dispatch.errors import ERRORS, not_found
from dispatch.routers.common import Limit, UnitPath
from gridhub.auth import Principal

router = APIRouter(prefix="/v1/departments", tags=["webhooks"], responses=ERRORS)
READERS = ("department", "city_operator", "supervisor", "auditor")
WRITERS = ("department", "city_operator")


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: HttpUrl = Field(description="http(s) endpoint that receives each new task")
    secret: str | None = Field(
        None, min_length=16, max_length=200, description="HMAC key for X-Gridhub-Signature"
    )
    event_types: list[str] = Field(
        default_factory=list, max_length=50, description="only these CloudEvent types; [] = all"
    )


class WebhookOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    department: str
    url: str
    has_secret: bool
    event_types: list[str]
    updated_at: float
    updated_by: str


class DeliveryOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    event_id: str
    department: str
    matter_id: str | None = None
    type: str | None = None
    status: Literal["pending", "retrying", "delivered", "failed", "skipped"]
    attempts: int
    last_status_code: int | None = None
    last_error: str | None = None
    next_attempt_at: float | None = None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    count: int


def _check(svc: Services, p: Principal, code: str) -> None:
    if code not in svc.city.departments:
        raise not_found("department")
    require_unit(p, "department", code)


def _public(hook: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in hook.items() if k != "secret"}
    out["has_secret"] = bool(hook.get("secret"))
    return out


@router.put("/{code}/webhook", response_model=WebhookOut, summary="Register a webhook")
async def put_webhook(
    p: Annotated[Principal, Depends(require(*WRITERS))],
    svc: Svc,
    code: UnitPath,
    body: WebhookIn,
) -> Response:
    """New tasks of department ``code`` are POSTed here (with retries and backoff)."""
    _check(svc, p, code)
    hook = {
        "department": code,
        "url": str(body.url),
        "secret": body.secret,
        "event_types": body.event_types,
        "updated_at": time.time(),
        "updated_by": p.user,
    }
    await svc.redis.set(svc.keys.webhook(code), orjson.dumps(hook))
    return Response(orjson.dumps(_public(hook)), media_type="application/json")


@router.get("/{code}/webhook", response_model=WebhookOut, summary="The registered webhook")
async def get_webhook(
    p: Annotated[Principal, Depends(require(*READERS))],
    svc: Svc,
    code: UnitPath,
) -> Response:
    """The webhook (never its secret)."""
    _check(svc, p, code)
    blob = await svc.redis.get(svc.keys.webhook(code))
    if blob is None:
        raise not_found("webhook")
    return Response(orjson.dumps(_public(orjson.loads(blob))), media_type="application/json")


@router.delete("/{code}/webhook", status_code=204, summary="Remove the webhook")
async def delete_webhook(
    p: Annotated[Principal, Depends(require(*WRITERS))],
    svc: Svc,
    code: UnitPath,
) -> Response:
    """Stop pushing; pending deliveries are skipped."""
    _check(svc, p, code)
    if not await svc.redis.delete(svc.keys.webhook(code)):
        raise not_found("webhook")
    return Response(status_code=204)


@router.get(
    "/{code}/webhook/deliveries",
    response_model=DeliveryPage,
    summary="Recent deliveries and their status",
)
async def deliveries(
    p: Annotated[Principal, Depends(require(*READERS))],
    svc: Svc,
    code: UnitPath,
    status: Literal["pending", "retrying", "delivered", "failed", "skipped"] | None = Query(None),
    limit: Limit = 50,
) -> Response:
    """Newest first: status, attempts, last HTTP status or error, next attempt time."""
    _check(svc, p, code)
    ids = await svc.redis.lrange(svc.keys.webhook_log(code), 0, 999)
    items: list[dict[str, Any]] = []
    if ids:
        blobs = await svc.redis.mget([svc.keys.webhook_delivery(code, text(i)) for i in ids])
        for blob in blobs:
            if blob is None:
                continue
            d = orjson.loads(blob)
            d.pop("body", None)
            if status is None or d.get("status") == status:
                items.append(d)
            if len(items) >= limit:
                break
    return Response(
        orjson.dumps({"items": items, "count": len(items)}), media_type="application/json"
    )

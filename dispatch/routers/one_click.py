"""One-click commands (一键式指挥): a short instruction from the city (or a township to its
villages) to chosen hubs and departments, pushed live to their wallboards; each target
acknowledges it here (directly, or through the wallboard gateway).

Stored in Redis (``RedisKeys.one_click``, index ``one_click_index``, acks in
``one_click_acks``); published as Delta ``command`` / ``command_ack`` on wallboard.updates.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from dispatch.auth import CITY_ROLES, load_view, require
from dispatch.deltas import publish_delta
from dispatch.deps import Services, Svc, text
from dispatch.errors import ERRORS, ApiError, not_found
from dispatch.models import MatterId, Note, ShortText, UnitCode
from dispatch.routers.common import Limit
from gridhub.auth import Principal

router = APIRouter(prefix="/v1/one-click", tags=["one-click"], responses=ERRORS)
IdPath = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
TARGET_ROLES = {"township": "township_hub", "village": "village_hub", "department": "department"}


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["township", "village", "department"]
    code: UnitCode


class OneClickIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: ShortText = Field(description="the instruction, e.g. 立即到场处置")
    targets: list[Target] = Field(min_length=1, max_length=300)
    matter_id: MatterId | None = Field(None, description="the matter it is about, if any")
    ack_due_at: AwareDatetime | None = Field(None, description="acknowledge by; default +N min")
    ack_within_minutes: int = Field(15, ge=1, le=7 * 24 * 60)


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Note = ""
    target: Target | None = Field(
        None, description="which target acknowledges (city operators recording a phone ack)"
    )
    via: Literal["dispatch", "gateway"] = "dispatch"


class OneClickOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    command_id: str
    text: str
    issued_by: dict[str, str]
    issued_at: str
    ack_due_at: str
    targets: list[dict[str, str]]
    matter_id: str | None = None
    acks: dict[str, dict[str, Any]] = {}
    pending: list[str] = []


class OneClickPage(BaseModel):
    items: list[OneClickOut]
    count: int


def _key(target: dict[str, str]) -> str:
    return f"{target['kind']}:{target['code']}"


def _own_target(p: Principal) -> dict[str, str] | None:
    for kind, role in TARGET_ROLES.items():
        if p.role == role:
            return {"kind": kind, "code": p.scope_code}
    return None


def _check_targets(svc: Services, p: Principal, targets: list[Target]) -> None:
    city = svc.city
    units = {"township": city.townships, "village": city.villages, "department": city.departments}
    for i, t in enumerate(targets):
        if t.code not in units[t.kind]:
            raise ApiError(422, "invalid", f"unknown {t.kind} {t.code!r}", f"targets.{i}.code")
        if p.role == "township_hub" and not (
            t.kind == "village" and city.villages[t.code].township == p.scope_code
        ):
            raise ApiError(
                403,
                "forbidden",
                "a township hub may command only its own villages",
                f"targets.{i}",
            )


def _may_see(p: Principal, doc: dict[str, Any]) -> bool:
    if p.role in CITY_ROLES:
        return True
    issuer = doc.get("issued_by") or {}
    if issuer.get("user") == p.user and issuer.get("role") == p.role:
        return True
    own = _own_target(p)
    return own is not None and _key(own) in {_key(t) for t in doc.get("targets", [])}


async def _load(svc: Services, p: Principal, command_id: str) -> dict[str, Any]:
    blob = await svc.redis.get(svc.keys.one_click(command_id))
    doc = orjson.loads(blob) if blob else None
    if doc is None or not _may_see(p, doc):
        raise not_found("one-click command")
    raw = await svc.redis.hgetall(svc.keys.one_click_acks(command_id))
    doc["acks"] = {text(k): orjson.loads(v) for k, v in raw.items()}
    doc["pending"] = [_key(t) for t in doc["targets"] if _key(t) not in doc["acks"]]
    return doc


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


@router.post("", response_model=OneClickOut, status_code=201, summary="Issue a one-click command")
async def issue(
    p: Annotated[Principal, Depends(require("city_operator", "township_hub"))],
    svc: Svc,
    body: OneClickIn,
) -> Response:
    """Store the command and push it to the targets' wallboards."""
    _check_targets(svc, p, body.targets)
    if body.matter_id is not None:
        await load_view(svc, p, body.matter_id)
    issued = datetime.now(UTC)
    due = body.ack_due_at or issued + timedelta(minutes=body.ack_within_minutes)
    if due <= issued:
        raise ApiError(422, "invalid", "ack_due_at must be in the future", "ack_due_at")
    targets = list({_key(t.model_dump()): t.model_dump() for t in body.targets}.values())
    doc: dict[str, Any] = {
        "command_id": "oc" + uuid.uuid4().hex,
        "text": body.text,
        "issued_by": {
            "user": p.user,
            "role": p.role,
            "scope_kind": p.scope_kind,
            "scope_code": p.scope_code,
        },
        "issued_at": issued.isoformat(),
        "ack_due_at": due.astimezone(UTC).isoformat(),
        "targets": targets,
        "matter_id": body.matter_id,
    }
    cid = str(doc["command_id"])
    await svc.redis.set(svc.keys.one_click(cid), orjson.dumps(doc))
    await svc.redis.zadd(svc.keys.one_click_index(), {cid: time.time()})
    await publish_delta(svc, "command", doc, cid, f"{cid}:issued")
    return _json({**doc, "acks": {}, "pending": [_key(t) for t in targets]}, 201)


@router.get("", response_model=OneClickPage, summary="One-click commands, newest first")
async def list_commands(
    p: Annotated[
        Principal, Depends(require(*CITY_ROLES, "township_hub", "village_hub", "department"))
    ],
    svc: Svc,
    open_only: bool = Query(False, description="only commands with targets yet to acknowledge"),
    limit: Limit = 50,
) -> Response:
    """Commands the caller issued, received or (city roles) all of them."""
    items: list[dict[str, Any]] = []
    ids = await svc.redis.zrevrange(svc.keys.one_click_index(), 0, 999)
    for raw in ids:
        try:
            doc = await _load(svc, p, text(raw))
        except ApiError:
            continue
        if open_only and not doc["pending"]:
            continue
        items.append(doc)
        if len(items) >= limit:
            break
    return _json({"items": items, "count": len(items)})


@router.get("/{command_id}", response_model=OneClickOut, summary="One command and its acks")
async def get_command(
    p: Annotated[
        Principal, Depends(require(*CITY_ROLES, "township_hub", "village_hub", "department"))
    ],
    svc: Svc,
    command_id: str = IdPath,
) -> Response:
    """The command, who acknowledged it when, and who has not yet."""
    return _json(await _load(svc, p, command_id))


@router.post("/{command_id}/ack", response_model=OneClickOut, summary="Acknowledge a command")
async def ack(
    p: Annotated[
        Principal, Depends(require("township_hub", "village_hub", "department", "city_operator"))
    ],
    svc: Svc,
    body: AckIn,
    command_id: str = IdPath,
) -> Response:
    """A target acknowledges (once; a repeat returns the first ack). A city operator may
    record the ack of a named target."""
    doc = await _load(svc, p, command_id)
    target = _own_target(p)
    if p.role == "city_operator":
        if body.target is None:
            raise ApiError(422, "invalid", "a city operator must name the target", "target")
        target = body.target.model_dump()
    if target is None or _key(target) not in {_key(t) for t in doc["targets"]}:
        raise ApiError(403, "forbidden", "the caller is not a target of this command")
    now = datetime.now(UTC)
    entry = {
        "user": p.user,
        "role": p.role,
        "acked_at": now.isoformat(),
        "note": body.note,
        "via": body.via,
        "on_time": now <= datetime.fromisoformat(doc["ack_due_at"]),
    }
    first = await svc.redis.hsetnx(
        svc.keys.one_click_acks(command_id), _key(target), orjson.dumps(entry)
    )
    if first:
        data = {
            "command_id": command_id,
            "target": target,
            "user": p.user,
            "acked_at": entry["acked_at"],
            "via": body.via,
        }
        await publish_delta(
            svc, "command_ack", data, command_id, f"{command_id}:ack:{_key(target)}"
        )
    return _json(await _load(svc, p, command_id))

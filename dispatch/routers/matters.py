"""Reading one matter: its view, its full record (全程记录), its reporter's contact; the city
list of open matters; and the status of a submitted command."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from dispatch.actions import command_body
from dispatch.auth import CITY_ROLES, STAFF, holds, load_view, require
from dispatch.commands import outcome_of
from dispatch.deps import Services, Svc
from dispatch.errors import ERRORS, forbidden, not_found
from dispatch.models import CommandOut, ContactOut, MatterOut, MatterPage, TimelineOut
from dispatch.queries import Filters, page_of
from dispatch.routers.common import CategoryQuery, LevelQuery, Limit, MatterIdPath, StateQuery
from gridhub.auth import Principal

router = APIRouter(prefix="/v1", tags=["matters"], responses=ERRORS)


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def open_set_keys(svc: Services) -> list[str]:
    """Every open-matter sorted set of the city: all hubs and all department queues."""
    k, city = svc.keys, svc.city
    keys = [k.hub_open("city", city.code)]
    keys += [k.hub_open("township", t) for t in city.townships]
    keys += [k.hub_open("village", v) for v in city.villages]
    keys += [k.dept_queue(d) for d in city.departments]
    return keys


@router.get("/matters", response_model=MatterPage, summary="Every open matter (city roles)")
async def list_matters(
    p: Annotated[Principal, Depends(require(*CITY_ROLES))],
    svc: Svc,
    state: StateQuery = None,
    warning_level: LevelQuery = None,
    category: CategoryQuery = None,
    township: str | None = Query(None, max_length=64),
    limit: Limit = 50,
    offset: int = Query(0, ge=0, le=1_000_000),
) -> Response:
    """Open matters city-wide (held by any hub or department), deadline first."""
    filters = Filters(state, warning_level, category, township)
    return _json(await page_of(svc, p, open_set_keys(svc), filters, limit, offset))


@router.get("/matters/{matter_id}", response_model=MatterOut, summary="One matter")
async def get_matter(
    p: Annotated[Principal, Depends(require(*STAFF))],
    svc: Svc,
    matter_id: MatterIdPath,
) -> Response:
    """The matter as people see it (no contact details)."""
    return _json(await load_view(svc, p, matter_id))


@router.get(
    "/matters/{matter_id}/timeline", response_model=TimelineOut, summary="Full record (全程记录)"
)
async def timeline(
    p: Annotated[Principal, Depends(require(*STAFF))],
    svc: Svc,
    matter_id: MatterIdPath,
    include_rejected: bool = Query(False, description="also list refused commands"),
) -> Response:
    """Every event of the matter in order: who did what, when, from which state to which."""
    await load_view(svc, p, matter_id)
    raw = await svc.redis.lrange(svc.keys.timeline(matter_id), 0, -1)
    events = [orjson.loads(r) for r in raw]
    if not include_rejected:
        events = [e for e in events if e.get("type") != "rejected"]
    return _json({"matter_id": matter_id, "events": events})


def mask(text: str | None, keep_start: int = 1, keep_end: int = 0) -> str | None:
    """``text`` with its middle replaced by ``*`` (None stays None)."""
    if not text:
        return text
    if len(text) <= keep_start + keep_end:
        return "*" * len(text)
    hidden = len(text) - keep_start - keep_end
    return text[:keep_start] + "*" * hidden + (text[-keep_end:] if keep_end else "")


def masked_contact(contact: dict[str, Any]) -> dict[str, Any]:
    """The contact as an auditor sees it: name initial, phone head/tail, email first letter."""
    email = contact.get("email")
    if email and "@" in email:
        user, _, domain = email.partition("@")
        email = f"{mask(user)}@{domain}"
    return {
        "name": mask(contact.get("name")),
        "phone": mask(contact.get("phone"), 3, 4),
        "email": email,
    }


@router.get(
    "/matters/{matter_id}/contact",
    response_model=ContactOut,
    summary="Reporter's contact (owner and city operators; auditors masked)",
)
async def contact(
    p: Annotated[Principal, Depends(require(*STAFF))],
    svc: Svc,
    matter_id: MatterIdPath,
) -> Response:
    """The citizen's contact: only the matter's holder and city operators read it in full;
    auditors read it masked; everybody else is refused."""
    view = await load_view(svc, p, matter_id)
    full = p.role == "city_operator" or holds(p, view)
    if not full and p.role != "auditor":
        raise forbidden("only the matter's holder and city operators may read the contact")
    blob = await svc.redis.get(svc.keys.contact(matter_id))
    data: dict[str, Any] = orjson.loads(blob) if blob else {}
    picked = {k: data.get(k) for k in ("name", "phone", "email")}
    if not full:
        picked = masked_contact(picked)
    return _json({"matter_id": matter_id, "masked": not full, **picked})


@router.get(
    "/commands/{command_id}", response_model=CommandOut, summary="Status of a submitted command"
)
async def command_status(
    p: Annotated[Principal, Depends(require(*STAFF))],
    svc: Svc,
    command_id: str = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$"),
) -> Response:
    """Pending, applied or rejected; visible to its submitter and to city-wide roles."""
    meta = await svc.bus.meta(command_id)
    if meta is None:
        raise not_found("command")
    mine = meta.get("user") == p.user and meta.get("role") == p.role
    if not mine and p.role not in CITY_ROLES:
        raise not_found("command")
    result = await svc.bus.result(command_id)
    outcome = outcome_of(command_id, meta.get("matter_id", ""), result)
    return _json(await command_body(svc, p, outcome))

"""Citizens' ratings (满意度测评): a signed link per matter is the only credential.

The link carries ``<matter_id>.<HMAC-SHA256(secret, matter_id)>`` (url-safe base64); the
secret is ``GRIDHUB_RATING_SECRET`` or one generated once and kept in Redis. The holder of
the matter and city operators fetch the link; the citizen opens it and rates. "Not
satisfied" reopens the matter to its last owner (the domain does that).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel

from dispatch.actions import new_command_id, now, status_url
from dispatch.auth import OWNER_ROLES, holds, load_view, read_view, require
from dispatch.deps import Services, Svc, text
from dispatch.errors import COMMAND_ERRORS, ERRORS, ApiError, forbidden, not_found
from dispatch.models import RatingIn
from dispatch.routers.common import MatterIdPath
from gridhub.auth import Principal
from gridhub.domain.commands import Actor, Rate

router = APIRouter(prefix="/v1", tags=["ratings"])
TokenPath = Path(min_length=3, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")


async def rating_secret(svc: Services) -> bytes:
    """The HMAC key of rating links: from settings, else created once in Redis (SET NX)."""
    if svc.settings.rating_secret:
        return svc.settings.rating_secret.encode()
    key = svc.keys.rating_secret()
    await svc.redis.set(key, secrets.token_urlsafe(32), nx=True)
    value = await svc.redis.get(key)
    return text(value).encode()


def sign(secret: bytes, matter_id: str) -> str:
    """The rating token of ``matter_id``."""
    mac = hmac.new(secret, b"rating:" + matter_id.encode(), hashlib.sha256).digest()
    return f"{matter_id}.{base64.urlsafe_b64encode(mac[:24]).decode().rstrip('=')}"


def verify(secret: bytes, token: str) -> str | None:
    """The matter id a rating token is for, or None when it is forged or malformed."""
    matter_id, dot, _ = token.rpartition(".")
    if not dot or not matter_id:
        return None
    return matter_id if hmac.compare_digest(sign(secret, matter_id), token) else None


class RatingLink(BaseModel):
    matter_id: str
    token: str
    url: str


class RatingPage(BaseModel):
    matter_id: str
    category: str
    state: str
    resolved_at: str | None = None
    rating: str | None = None
    can_rate: bool


class RatingResult(BaseModel):
    command_id: str
    status: str
    state: str | None = None
    status_url: str


@router.get(
    "/matters/{matter_id}/rating-link",
    response_model=RatingLink,
    responses=ERRORS,
    summary="The citizen's rating link for a matter",
)
async def rating_link(
    p: Annotated[Principal, Depends(require(*OWNER_ROLES))],
    svc: Svc,
    matter_id: MatterIdPath,
    request: Request,
) -> RatingLink:
    """For the matter's holder and city operators, to send to the reporter."""
    view = await load_view(svc, p, matter_id)
    if p.role != "city_operator" and not holds(p, view):
        raise forbidden("only the matter's holder and city operators may send a rating link")
    token = sign(await rating_secret(svc), matter_id)
    base = svc.settings.public_base_url or str(request.base_url)
    return RatingLink(
        matter_id=matter_id, token=token, url=f"{base.rstrip('/')}/v1/ratings/{token}"
    )


async def _matter_of(svc: Services, token: str) -> tuple[str, dict[str, object]]:
    matter_id = verify(await rating_secret(svc), token)
    view = await read_view(svc, matter_id) if matter_id else None
    if matter_id is None or view is None:
        raise not_found("rating link")
    return matter_id, view


@router.get(
    "/ratings/{token}",
    response_model=RatingPage,
    responses={404: ERRORS[404]},
    summary="What a rating link is about (no login: the link is the credential)",
)
async def rating_page(svc: Svc, token: str = TokenPath) -> RatingPage:
    """The matter's category and state, and whether it can be rated now."""
    matter_id, view = await _matter_of(svc, token)
    category = svc.city.categories.get(str(view.get("category")))
    state = str(view.get("state"))
    rating = view.get("rating")
    return RatingPage(
        matter_id=matter_id,
        category=category.name_zh if category else str(view.get("category")),
        state=state,
        resolved_at=view.get("resolved_at"),  # type: ignore[arg-type]
        rating=rating,  # type: ignore[arg-type]
        can_rate=state in ("resolved", "closed") and not rating,
    )


@router.post(
    "/ratings/{token}",
    response_model=RatingResult,
    responses={k: v for k, v in COMMAND_ERRORS.items() if k in (404, 409, 422, 503)},
    summary="Rate the result: satisfied / basically satisfied / not satisfied",
)
async def rate(svc: Svc, body: RatingIn, token: str = TokenPath) -> Response:
    """Record the citizen's rating; not satisfied reopens the matter to its last owner."""
    matter_id, _ = await _matter_of(svc, token)
    actor = Actor(user_id=f"citizen:{matter_id}", role="citizen", scope_kind="none")
    command = Rate(
        matter_id=matter_id,
        actor=actor,
        at=now(),
        command_id=new_command_id(),
        rating=body.rating,
        comment=body.comment,
    )
    outcome = await svc.bus.submit(command)
    result = outcome.result or {}
    if outcome.status == "rejected":
        raise ApiError(409, "rejected", str(result.get("reason") or "the rating was refused"))
    doc = {
        "command_id": outcome.command_id,
        "status": outcome.status,
        "state": result.get("state"),
        "status_url": status_url(outcome.command_id),
    }
    return Response(
        orjson.dumps(doc),
        status_code=202 if outcome.status == "pending" else 200,
        media_type="application/json",
    )

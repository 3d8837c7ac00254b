"""Request plumbing shared by the channel routers: the runtime, API keys, rate limit, bodies.

    @router.post("/v1/patrol/reports")
    async def report(request: Request, caller: Caller = Depends(intake_caller)):
        body = await read_json(request, PatrolReport)
        ...

API keys are the tokens of :mod:`gridhub.auth` (``gridhub token issue --role intake``),
sent as the ``X-Api-Key`` header or, for Open311 clients, the ``api_key`` parameter. Redis
keeps only their SHA-256. Every request is counted against the rate limit: per key when
one is given, per client address otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, TypeVar

import redis.asyncio as aioredis
from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError
from redis.exceptions import RedisError

from connectors.config import IntakeConfig
from connectors.errors import IntakeError, IntakeUnavailable, validation_error
from connectors.normalize import Gazetteer
from connectors.ratelimit import RateLimiter
from connectors.service import IntakeService
from gridhub.auth import Principal, verify_token
from gridhub.domain.hierarchy import City

#: Token roles allowed to submit; "open311" is honoured once gridhub.auth defines it.
INTAKE_ROLES = frozenset({"intake", "open311"})
M = TypeVar("M", bound=BaseModel)


@dataclass
class Runtime:
    """Everything a request handler needs, built once by the app's lifespan."""

    config: IntakeConfig
    city: City
    gazetteer: Gazetteer
    redis: aioredis.Redis
    service: IntakeService
    limiter: RateLimiter


@dataclass(frozen=True)
class Caller:
    """Who is calling: the verified principal (None for public reads) and the rate key."""

    principal: Principal | None
    client: str


def runtime(request: Request) -> Runtime:
    """The app's :class:`Runtime`."""
    rt: Runtime = request.app.state.intake
    return rt


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def authenticate(request: Request, raw_key: str | None) -> Caller:
    """Verify an API key for a submission: 401 when missing or unknown, 403 for a wrong
    role; then count the request against the key's rate limit (429)."""
    rt = runtime(request)
    if not raw_key:
        raise IntakeError(
            401,
            "unauthorized",
            "an API key is required: send the X-Api-Key header (Open311: the api_key parameter)",
            "api_key",
            headers={"WWW-Authenticate": "ApiKey"},
        )
    try:
        principal = await verify_token(rt.redis, rt.service.keys, raw_key)
        if principal is None:
            await rt.limiter.check(f"ip:{_address(request)}")
            raise IntakeError(
                401,
                "unauthorized",
                "the API key is unknown, revoked or expired",
                "api_key",
                headers={"WWW-Authenticate": "ApiKey"},
            )
        if principal.role not in INTAKE_ROLES:
            raise IntakeError(
                403,
                "forbidden",
                f"role {principal.role!r} may not submit matters; an intake key is needed",
                "api_key",
            )
        caller = Caller(principal, f"tok:{principal.token_id}")
        await rt.limiter.check(caller.client)
    except RedisError as exc:
        raise IntakeUnavailable(
            f"Redis is unavailable: {exc}", rt.config.retry_after_seconds
        ) from None
    return caller


async def intake_caller(request: Request) -> Caller:
    """FastAPI dependency of submission endpoints: the key from ``X-Api-Key``."""
    return await authenticate(request, request.headers.get("x-api-key"))


IntakeCaller = Annotated[Caller, Depends(intake_caller)]


async def public_caller(request: Request) -> Caller:
    """FastAPI dependency of public reads: rate-limited per client address."""
    rt = runtime(request)
    caller = Caller(None, f"ip:{_address(request)}")
    try:
        await rt.limiter.check(caller.client)
    except RedisError as exc:
        raise IntakeUnavailable(
            f"Redis is unavailable: {exc}", rt.config.retry_after_seconds
        ) from None
    return caller


PublicCaller = Annotated[Caller, Depends(public_caller)]


def media_type(request: Request) -> str:
    """The request's media type without parameters, lower-cased ("" when absent)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def require_json(request: Request) -> None:
    """415 unless the body is declared as JSON."""
    kind = media_type(request)
    if kind != "application/json" and not kind.endswith("+json"):
        raise IntakeError(
            415,
            "unsupported_media_type",
            f"Content-Type must be application/json, got {kind or 'none'!r}",
            "Content-Type",
        )


async def read_json(request: Request, model: type[M]) -> M:
    """The body parsed strictly into ``model``: 415 for another content type, 400 for a body
    that is not JSON, 413 for text over a limit, 422 naming the first wrong field."""
    require_json(request)
    raw = await request.body()
    if not raw.strip():
        raise IntakeError(
            400, "invalid_json", "the body is empty; a JSON object is expected", "body"
        )
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise validation_error(exc) from None

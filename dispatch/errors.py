"""One error format for every dispatch endpoint: ``{"error": {"code", "message", "field"}}``.

Raise :class:`ApiError` (or use the helpers :func:`not_found`, :func:`forbidden`) anywhere in
a request; :func:`install` registers handlers that turn it, FastAPI's validation errors and
Starlette's HTTP errors into that document. Unexpected exceptions become a 500 without detail.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """The inside of an error document."""

    code: str
    message: str
    field: str | None = None


class ErrorDoc(BaseModel):
    """The error document every refusal carries."""

    error: ErrorBody


class ApiError(Exception):
    """A refusal: HTTP ``status``, a stable ``code``, a human message and the field at fault."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON error document."""
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


def not_found(what: str = "matter") -> ApiError:
    """404 for something that does not exist *or* is outside the caller's scope."""
    return ApiError(404, "not_found", f"no such {what}")


def forbidden(message: str) -> ApiError:
    """403: the caller's role may not do this at all."""
    return ApiError(403, "forbidden", message)


#: OpenAPI ``responses`` for the errors most endpoints can give.
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorDoc, "description": "missing, unknown or expired bearer token"},
    403: {"model": ErrorDoc, "description": "the caller's role may not do this"},
    404: {"model": ErrorDoc, "description": "no such item, or not in the caller's scope"},
    422: {"model": ErrorDoc, "description": "invalid input; error.field names it"},
}
#: Extra responses of command endpoints.
COMMAND_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"model": ErrorDoc, "description": "the domain refused the command; message says why"},
    503: {"model": ErrorDoc, "description": "Kafka did not take the command; nothing happened"},
}


def _render(err: ApiError) -> Response:
    return Response(
        orjson.dumps(err.body()),
        status_code=err.status,
        media_type="application/json",
        headers=err.headers,
    )


def _loc(loc: Sequence[int | str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    if exc.status in (401, 403):  # an audit line per refused caller (never the token)
        client = request.client.host if request.client else "?"
        log.warning(
            "refused %s %s from %s: %d %s",
            request.method,
            request.url.path,
            client,
            exc.status,
            exc.message,
        )
    return _render(exc)


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid"}
    if first.get("type") == "json_invalid":
        return _render(ApiError(400, "invalid_json", "the body is not valid JSON", "body"))
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    if first.get("type") == "missing":
        message = "is required"
    field = _loc(first.get("loc", ()))
    return _render(ApiError(422, "invalid", f"{field}: {message}", field))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
        exc.status_code, "http_error"
    )
    return _render(ApiError(exc.status_code, code, str(exc.detail), None, dict(exc.headers or {})))


async def _store_down(request: Request, exc: Exception) -> Response:
    log.warning("Redis unavailable on %s %s: %r", request.method, request.url.path, exc)
    return _render(
        ApiError(
            503,
            "unavailable",
            "the store is unavailable or being rebuilt; try again shortly",
            None,
            {"Retry-After": "2"},
        )
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return _render(ApiError(500, "internal", "internal error"))


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the one format."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RedisError, _store_down)
    app.add_exception_handler(Exception, _unexpected)

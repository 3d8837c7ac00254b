"""One error format for every intake endpoint, and the handlers that produce it.

Every refusal is ``{"error": {"code": ..., "message": ..., "field": ...}}`` (``field`` is the
dotted path of the offending input, or null) with the right status; when several fields are
wrong, ``error.details`` lists each ``{"field", "message"}``. Open311 endpoints render the
same error in the GeoReport v2 shape instead (see :mod:`connectors.channels.open311_format`).

Raise :class:`IntakeError` anywhere in a request; :func:`install` registers the handlers and
the body-size middleware on an app.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

OPEN311_PREFIX = "/open311/"
log = logging.getLogger("connectors.access")


class IntakeError(Exception):
    """A request intake refuses: HTTP ``status``, a stable ``code``, a message and the field."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        *,
        details: Sequence[tuple[str, str]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.details = list(details)
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON error document."""
        err: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field}
        if len(self.details) > 1:
            err["details"] = [{"field": f, "message": m} for f, m in self.details]
        return {"error": err}


class IntakeUnavailable(IntakeError):
    """Kafka (or Redis) cannot take the write now: 503 with Retry-After; nothing was accepted."""

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(
            503, "unavailable", message, None, headers={"Retry-After": str(retry_after)}
        )
        self.retry_after = retry_after


def invalid(problems: Sequence[tuple[str, str]], status: int = 422) -> IntakeError:
    """An :class:`IntakeError` for (field, problem) pairs; the first names the error."""
    field, message = problems[0]
    code = "too_large" if status == 413 else "invalid"
    return IntakeError(status, code, f"{field}: {message}", field, details=problems)


def _loc(loc: Sequence[int | str], skip_body: bool = True) -> str:
    parts = [str(p) for p in loc]
    if skip_body and parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def from_validation(errors: Sequence[Any], prefix: str = "") -> IntakeError:
    """Turn pydantic errors into one :class:`IntakeError`: 400 for a body that is not JSON,
    413 for text over its size limit, otherwise 422, always naming the field."""
    problems: list[tuple[str, str]] = []
    status = 422
    for err in errors:
        kind = err.get("type", "")
        field = prefix + _loc(err.get("loc", ()))
        if kind == "json_invalid":
            ctx = err.get("ctx") or {}
            return IntakeError(
                400,
                "invalid_json",
                f"the body is not valid JSON: {ctx.get('error', err['msg'])}",
                "body",
            )
        if kind in ("model_type", "model_attributes_type", "dict_type") and field in ("body", ""):
            return IntakeError(422, "invalid", "the body must be a JSON object", "body")
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if kind == "missing":
            message = "is required"
        elif kind == "extra_forbidden":
            message = "is not a known field"
        elif kind == "string_too_long":
            status = 413
            limit = (err.get("ctx") or {}).get("max_length")
            message = f"text is longer than the limit of {limit} characters"
        problems.append((field, message))
    if status == 413:
        problems = [p for p in problems if "longer than the limit" in p[1]]
    return invalid(problems, status)


def validation_error(exc: ValidationError, prefix: str = "") -> IntakeError:
    """:func:`from_validation` for a pydantic :class:`ValidationError`."""
    return from_validation(exc.errors(), prefix)


def _render(request: Request, err: IntakeError) -> Response:
    if request.url.path.startswith(OPEN311_PREFIX):
        from connectors.channels.open311_format import render_error

        return render_error(request, err)
    return Response(
        orjson.dumps(err.body()),
        status_code=err.status,
        media_type="application/json",
        headers=err.headers,
    )


async def _intake_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IntakeError)
    if exc.status in (401, 403):  # an audit line per refused caller (never the key)
        client = request.client.host if request.client else "?"
        log.warning(
            "refused %s %s from %s: %d %s",
            request.method,
            request.url.path,
            client,
            exc.status,
            exc.message,
        )
    return _render(request, exc)


async def _request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return _render(request, from_validation(exc.errors()))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    err = IntakeError(exc.status_code, code, str(exc.detail), None, headers=dict(exc.headers or {}))
    return _render(request, err)


async def _unexpected(request: Request, exc: Exception) -> Response:
    err = IntakeError(500, "internal", "internal error; the submission was not accepted")
    return _render(request, err)


class BodyTooLarge(Exception):
    """Raised inside the ASGI receive wrapper when a body passes the limit."""


class BodySizeLimit:
    """ASGI middleware: refuse bodies over ``max_bytes`` with 413 before anything reads them,
    by Content-Length when given and by counting chunks otherwise."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        err = IntakeError(
            413, "too_large", f"the body is larger than the limit of {self.max_bytes} bytes", "body"
        )
        response = _render(Request(scope, receive), err)
        await response(scope, receive, send)


def install(app: FastAPI, max_body_bytes: int) -> None:
    """Register the error handlers and the body-size middleware on ``app``."""
    app.add_exception_handler(IntakeError, _intake_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)

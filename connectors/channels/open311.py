"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2/) under ``/open311/v2``.

Every endpoint answers ``.json`` or ``.xml``. Services are the city's categories
(``service_code`` = category code). ``POST requests`` needs an intake API key as
``api_key`` and takes the spec's form fields (``application/x-www-form-urlencoded``; JSON
is accepted too); ``address_id`` is a grid code. The answer carries ``service_request_id``
(the matter id) and, for clients that poll, ``token`` (the same id: intake answers only
after Kafka acknowledged, so the id is known at once).

Reads are public and show only citizen-facing channels (Open311 and the app), never the
reporter's contact. Status comes from the projection streams/ keeps in Redis
(``RedisKeys.matter``), or from what intake recorded until that exists.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import AnyHttpUrl, ValidationError

from connectors.channels.common import Address, Input, Lat, Lon, LongText, Short, request_body
from connectors.channels.open311_format import render
from connectors.channels.open311_status import request_view
from connectors.errors import IntakeError, invalid, validation_error
from connectors.http import Caller, PublicCaller, Runtime, authenticate, media_type, runtime
from connectors.normalize import build_matter
from connectors.service import PUBLIC_SOURCES, public_index_key
from gridhub.domain.hierarchy import Category
from gridhub.intake import Source

router = APIRouter(prefix="/open311/v2", tags=["open311"])
FORMATS = ("json", "xml")


class ServiceRequestIn(Input):
    """The spec's POST fields; ``attribute[...]`` fields are accepted and ignored (no
    service declares attributes)."""

    service_code: Short
    jurisdiction_id: Short | None = None
    api_key: Short | None = None
    lat: Lat | None = None
    long: Lon | None = None
    address_string: Address | None = None
    address_id: Short | None = None
    description: LongText | None = None
    media_url: AnyHttpUrl | None = None
    email: Short | None = None
    device_id: Short | None = None
    account_id: Short | None = None
    first_name: Short | None = None
    last_name: Short | None = None
    phone: Short | None = None


def _format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise IntakeError(404, "not_found", f"unknown format {fmt!r}; use .json or .xml", "format")


def _jurisdiction(rt: Runtime, given: str | None) -> None:
    if given and given != rt.city.code:
        raise invalid([("jurisdiction_id", f"this endpoint serves only {rt.city.code!r}")], 400)


def _service(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name_zh,
        "description": category.name_en,
        "metadata": False,
        "type": "realtime",
        "keywords": category.group,
        "group": category.group,
    }


@router.get("/services.{fmt}")
async def services(fmt: str, request: Request, caller: PublicCaller) -> Response:
    """GET Service List: one service per category of the city."""
    _format(fmt)
    rt = runtime(request)
    _jurisdiction(rt, request.query_params.get("jurisdiction_id"))
    items = [_service(c) for c in rt.city.categories.values()]
    return render(request, "services", "service", items)


@router.get("/services/{code}.{fmt}")
async def service_definition(
    code: str, fmt: str, request: Request, caller: PublicCaller
) -> Response:
    """GET Service Definition: no service has extra attributes."""
    _format(fmt)
    rt = runtime(request)
    if code not in rt.city.categories:
        raise IntakeError(
            404, "not_found", f"unknown service_code {code!r}; see services.{fmt}", "service_code"
        )
    return render(request, "service_definition", None, {"service_code": code, "attributes": []})


async def _post_fields(request: Request) -> dict[str, Any]:
    kind = media_type(request)
    raw = await request.body()
    if kind == "application/x-www-form-urlencoded":
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise IntakeError(400, "invalid_body", "the form is not UTF-8", "body") from None
        pairs = parse_qsl(text, keep_blank_values=True)
    elif kind == "application/json":
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise IntakeError(
                400, "invalid_json", f"the body is not valid JSON: {exc}", "body"
            ) from None
        if not isinstance(data, dict):
            raise IntakeError(422, "invalid", "the body must be a JSON object", "body")
        pairs = list(data.items())
    else:
        raise IntakeError(
            415,
            "unsupported_media_type",
            f"Content-Type must be application/x-www-form-urlencoded, got {kind or 'none'!r}",
            "Content-Type",
        )
    fields: dict[str, Any] = {}
    for key, value in pairs:
        if key.startswith("attribute["):
            continue
        if value == "" or value is None:
            continue
        fields.setdefault(key, value)
    return fields


def _source_id(caller: Caller, form: ServiceRequestIn) -> str:
    """Open311 has no client id for a request: the same caller posting the same content is
    the same request (a client retry), so its digest is the source id."""
    parts = [
        caller.client,
        *(str(v) for k, v in sorted(form.model_dump().items()) if k != "api_key" and v is not None),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


@router.post(
    "/requests.{fmt}",
    openapi_extra=request_body(
        ServiceRequestIn, "application/x-www-form-urlencoded", "application/json"
    ),
)
async def post_request(fmt: str, request: Request) -> Response:
    """POST Service Request: accept a request; answer after Kafka acknowledged it."""
    _format(fmt)
    rt = runtime(request)
    fields = await _post_fields(request)
    key = (
        fields.get("api_key")
        or request.query_params.get("api_key")
        or request.headers.get("x-api-key")
    )
    caller = await authenticate(request, key if isinstance(key, str) else None)
    try:
        form = ServiceRequestIn.model_validate(fields)
    except ValidationError as exc:
        raise validation_error(exc) from None
    _jurisdiction(rt, form.jurisdiction_id or request.query_params.get("jurisdiction_id"))
    if form.service_code not in rt.city.categories:
        raise invalid(
            [
                (
                    "service_code",
                    f"unknown service_code {form.service_code!r}; valid "
                    f"codes are listed at GET /open311/v2/services.{fmt}",
                )
            ],
            400,
        )
    grid = form.address_id
    location = rt.gazetteer.resolve(
        grid=grid, lat=form.lat, lon=form.long, address=form.address_string
    )
    category = rt.city.categories[form.service_code]
    name = " ".join(p for p in (form.first_name, form.last_name) if p) or None
    matter = build_matter(
        rt.city,
        source=Source.OPEN311,
        source_id=_source_id(caller, form),
        category=form.service_code,
        description=form.description or category.name_zh,
        location=location,
        reporter={"name": name, "phone": form.phone, "email": form.email},
        attachments=[str(form.media_url)] if form.media_url else [],
        fields={
            "category": "service_code",
            "grid": "address_id",
            "lat": "lat",
            "attachments": "media_url",
        },
    )
    result = await rt.service.submit(matter)
    notice = "duplicate of an earlier request" if result.duplicate else "accepted (受理)"
    body = [
        {
            "service_request_id": result.matter_id,
            "token": result.matter_id,
            "service_notice": notice,
            "account_id": form.account_id,
        }
    ]
    return render(
        request, "service_requests", "request", body, status=200 if result.duplicate else 201
    )


def _parse_date(request: Request, name: str) -> datetime | None:
    text = request.query_params.get(name)
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(
            [(name, f"{text!r} is not a w3c datetime like 2024-01-01T00:00:00Z")], 400
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


async def _load(rt: Runtime, ids: list[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    keys = rt.service.keys
    seen = await rt.redis.mget([keys.intake_seen(i) for i in ids])
    views = await rt.redis.mget([keys.matter(i) for i in ids])
    out = []
    for raw_seen, raw_view in zip(seen, views, strict=True):
        if raw_seen is None:
            continue
        doc = orjson.loads(raw_seen)
        if doc.get("source") not in {s.value for s in PUBLIC_SOURCES}:
            continue
        out.append(request_view(rt.city, doc, orjson.loads(raw_view) if raw_view else None))
    return out


@router.get("/requests.{fmt}")
async def get_requests(fmt: str, request: Request, caller: PublicCaller) -> Response:
    """GET Service Requests with the spec's filters: service_request_id (overrides the
    rest), service_code, start_date, end_date (at most 90 days apart), status."""
    _format(fmt)
    rt = runtime(request)
    q = request.query_params
    _jurisdiction(rt, q.get("jurisdiction_id"))
    ids_param = q.get("service_request_id")
    if ids_param:
        ids = [i.strip() for i in ids_param.split(",") if i.strip()][: rt.config.open311_page_size]
        return render(request, "service_requests", "request", await _load(rt, ids))
    statuses = {s.strip() for s in (q.get("status") or "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise invalid([("status", "must be open, closed or both (comma separated)")], 400)
    codes = {c.strip() for c in (q.get("service_code") or "").split(",") if c.strip()}
    unknown = codes - set(rt.city.categories)
    if unknown:
        raise invalid([("service_code", f"unknown service_code {sorted(unknown)[0]!r}")], 400)
    span = timedelta(days=rt.config.open311_days)
    start, end = _parse_date(request, "start_date"), _parse_date(request, "end_date")
    end = end or ((start + span) if start else datetime.now(UTC))
    start = start or end - span
    if start > end:
        raise invalid([("start_date", "must not be after end_date")], 400)
    if end - start > span:
        raise invalid([("end_date", f"the range may span at most {span.days} days")], 400)
    ids = [
        i.decode() if isinstance(i, bytes) else str(i)
        for i in await rt.redis.zrevrangebyscore(
            public_index_key(rt.service.keys),
            end.timestamp(),
            start.timestamp(),
            start=0,
            num=rt.config.open311_page_size * 4,
        )
    ]
    found = [
        r
        for r in await _load(rt, ids)
        if (not codes or r["service_code"] in codes) and (not statuses or r["status"] in statuses)
    ]
    return render(request, "service_requests", "request", found[: rt.config.open311_page_size])


@router.get("/requests/{request_id}.{fmt}")
async def get_request(
    request_id: str, fmt: str, request: Request, caller: PublicCaller
) -> Response:
    """GET Service Request: one request, as a one-element list (the spec's shape)."""
    _format(fmt)
    found = await _load(runtime(request), [request_id])
    if not found:
        raise IntakeError(
            404, "not_found", f"no service request {request_id!r}", "service_request_id"
        )
    return render(request, "service_requests", "request", found)


@router.get("/tokens/{token}.{fmt}")
async def get_token(token: str, fmt: str, request: Request, caller: PublicCaller) -> Response:
    """GET request id from a token: tokens are the request ids themselves."""
    _format(fmt)
    found = await _load(runtime(request), [token])
    if not found:
        raise IntakeError(404, "not_found", f"no request for token {token!r}", "token")
    body = [{"service_request_id": token, "token": token}]
    return render(request, "service_requests", "request", body)

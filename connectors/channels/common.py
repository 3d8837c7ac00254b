"""Field types and answers shared by the channel modules.

Text limits are enforced by the input models, so a field over its limit is answered 413
naming the field (see :func:`connectors.errors.from_validation`).
"""

from __future__ import annotations

from copy import deepcopy
from typing import Annotated, Any

import orjson
from fastapi.responses import Response
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints

from connectors.service import Accepted
from gridhub.intake import MAX_ATTACHMENTS, MAX_DESCRIPTION

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Short = Annotated[str, StringConstraints(max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)]
Address = Annotated[str, StringConstraints(max_length=500)]
Lat = Annotated[float, Field(ge=-90, le=90)]
Lon = Annotated[float, Field(ge=-180, le=180)]
Photos = Annotated[list[AnyHttpUrl], Field(max_length=MAX_ATTACHMENTS)]


class Input(BaseModel):
    """Base of channel inputs: unknown fields are refused (a typo is named, not dropped)."""

    model_config = ConfigDict(extra="forbid")


class Contact(Input):
    """A citizen's contact; private, never echoed by public reads."""

    name: Annotated[str, StringConstraints(max_length=100)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    email: Annotated[str, StringConstraints(max_length=200)] | None = None


def accepted_response(result: Accepted, extra: dict[str, Any] | None = None) -> Response:
    """201 with the new matter id, or 200 with the same id for a duplicate."""
    body = {"matter_id": result.matter_id, "duplicate": result.duplicate, **(extra or {})}
    return Response(
        orjson.dumps(body),
        status_code=200 if result.duplicate else 201,
        media_type="application/json",
    )


def json_response(body: Any, status: int = 200) -> Response:
    """``body`` as a JSON response (orjson)."""
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with every local ``$ref`` replaced by its definition (the models do not nest
    recursively), so the schema stands alone inside an OpenAPI document."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(deepcopy(defs[ref.rsplit("/", 1)[1]]), defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def request_body(model: type[BaseModel], *media_types: str) -> dict[str, Any]:
    """``openapi_extra`` documenting ``model`` as the request body of a route that reads its
    body by hand (so OpenAPI clients and schemathesis know the shape)."""
    schema = model.model_json_schema()
    inlined = _inline(schema, schema.get("$defs", {}))
    content = {kind: {"schema": inlined} for kind in media_types or ("application/json",)}
    return {"requestBody": {"required": True, "content": content}}

"""Open311 GeoReport v2 wire formats: JSON and XML documents, and errors in the spec's shape.

    render(request, "services", "service", items, status=200)   # by the path's .json / .xml
    render_error(request, IntakeError(...))

XML is built with ElementTree, so citizen text is always escaped, never markup. An error is
``[{"code": 400, "description": "...", "field": "..."}]`` in JSON and
``<errors><error><code/><description/></error></errors>`` in XML, as the spec shows.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response

from connectors.errors import IntakeError

XML_TYPE = "text/xml; charset=utf-8"


def wants_xml(request: Request) -> bool:
    """True when the path asks for ``.xml``."""
    return request.url.path.endswith(".xml")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _element(parent: ET.Element, name: str, value: Any) -> None:
    if value is None:
        ET.SubElement(parent, name)
    elif isinstance(value, Mapping):
        child = ET.SubElement(parent, name)
        for key, item in value.items():
            _element(child, key, item)
    elif isinstance(value, list | tuple):
        child = ET.SubElement(parent, name)
        for item in value:
            _element(child, name.rstrip("s") or "item", item)
    else:
        ET.SubElement(parent, name).text = _text(value)


def to_xml(
    root: str, item: str | None, data: Sequence[Mapping[str, Any]] | Mapping[str, Any]
) -> bytes:
    """An XML document: ``<root><item>...</item>...</root>`` for a list, ``<root>...`` for one
    mapping (``item`` None)."""
    top = ET.Element(root)
    if isinstance(data, Mapping):
        for key, value in data.items():
            _element(top, key, value)
    else:
        for entry in data:
            _element(top, item or "item", entry)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        top, encoding="utf-8", xml_declaration=False
    )


def render(
    request: Request,
    root: str,
    item: str | None,
    data: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    status: int = 200,
) -> Response:
    """``data`` as JSON or XML, by the request path's format suffix."""
    if wants_xml(request):
        return Response(to_xml(root, item, data), status_code=status, media_type=XML_TYPE)
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def render_error(request: Request, err: IntakeError) -> Response:
    """An :class:`IntakeError` in the GeoReport v2 error shape (same status and headers)."""
    errors = [{"code": err.status, "description": err.message, "field": err.field}]
    for field, message in err.details[1:]:
        errors.append({"code": err.status, "description": f"{field}: {message}", "field": field})
    if wants_xml(request):
        body = to_xml("errors", "error", errors)
        return Response(body, status_code=err.status, media_type=XML_TYPE, headers=err.headers)
    return Response(
        orjson.dumps(errors),
        status_code=err.status,
        media_type="application/json",
        headers=err.headers,
    )

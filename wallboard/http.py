"""The gateway's plain HTTP side, answered in websockets' ``process_request``: the page and its
vendored assets, ``/healthz`` and ``/metrics``. ``/ws`` goes on to the WebSocket handshake.

Every page response carries a strict Content-Security-Policy (scripts only from this
origin, no inline script, no eval), so citizen text that slipped into markup still could
not run.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

WEB_ROOT = Path(__file__).resolve().parent / "web"
PAGE_FILES = ("index.html", "app.js", "board.js", "charts.js", "i18n.js", "style.css")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".woff2": "font/woff2",
    ".json": "application/json",
}


def response(status: int, body: bytes, content_type: str, *, cache: str = "no-cache") -> Response:
    """An HTTP response with the security headers every answer carries."""
    reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}.get(status, "OK")
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Content-Security-Policy", CSP),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Cache-Control", cache),
            ("Connection", "close"),
        ]
    )
    return Response(status, reason, headers, body)


class StaticFiles:
    """Serves the page and ``vendor/`` from ``root``, read once and kept in memory."""

    def __init__(self, root: Path = WEB_ROOT) -> None:
        self.root = root.resolve()
        self._cache: dict[str, tuple[bytes, str]] = {}

    def _load(self, rel: str) -> tuple[bytes, str] | None:
        if rel in self._cache:
            return self._cache[rel]
        if rel not in PAGE_FILES and not rel.startswith("vendor/"):
            return None
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        kind = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
        found = (path.read_bytes(), kind or "application/octet-stream")
        self._cache[rel] = found
        return found

    def serve(self, request: Request) -> Response:
        """The file the request names, or 404."""
        rel = request.path.split("?", 1)[0].lstrip("/") or "index.html"
        if ".." in rel.split("/"):
            return response(404, b"not found\n", "text/plain; charset=utf-8")
        found = self._load(rel)
        if found is None:
            return response(404, b"not found\n", "text/plain; charset=utf-8")
        body, kind = found
        cache = "public, max-age=86400" if rel.startswith("vendor/") else "no-cache"
        return response(200, body, kind, cache=cache)

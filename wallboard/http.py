"""The gateway's plain HTTP side, answered in websockets' ``process_request``: the page, its
vendored assets and its ``config.json``, ``/healthz`` and ``/metrics``. ``/ws`` goes on to the
WebSocket handshake.

Every page response carries a strict Content-Security-Policy (scripts only from this
origin, no inline script, no eval), so citizen text that slipped into markup still could
not run. Its ``connect-src`` names this origin and the dispatch API's, the one other place
the page talks to (to issue one-click commands); see :class:`PageConfig`.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import orjson
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from gridhub.settings import Settings
from wallboard.snapshot import LOCAL_TZ

WEB_ROOT = Path(__file__).resolve().parent / "web"
PAGE_FILES = ("index.html", "app.js", "board.js", "charts.js", "i18n.js", "style.css")
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; "
    "img-src 'self' data:; connect-src 'self'{connect}; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
CSP = _CSP.format(connect="")
_HOST_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(?::[0-9]{1,5})?$")
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".woff2": "font/woff2",
    ".json": "application/json",
}


@dataclass(frozen=True)
class PageConfig:
    """What the page needs to know besides its hub and token, served as ``/config.json``.

    The page issues one-click commands straight to the dispatch API. Its base URL is
    ``settings.dispatch_url`` when set (it must then be reachable from the screens), else the
    host the screen loaded the page from, on ``settings.dispatch_port``.
    """

    dispatch_url: str = ""
    dispatch_port: int = 8082
    timezone: str = LOCAL_TZ.key  # the city's clock, whatever zone the screen's browser is in

    @classmethod
    def from_settings(cls, settings: Settings) -> PageConfig:
        """The page config of a gateway run with ``settings``."""
        return cls((settings.dispatch_url or "").rstrip("/"), settings.dispatch_port)

    def body(self) -> bytes:
        """The ``config.json`` document."""
        return orjson.dumps(
            {
                "dispatch_url": self.dispatch_url,
                "dispatch_port": self.dispatch_port,
                "timezone": self.timezone,
            }
        )

    def dispatch_origin(self, request: Request) -> str | None:
        """The origin the page will fetch the dispatch API from (None: unknown)."""
        if self.dispatch_url:
            parts = urlsplit(self.dispatch_url)
            if parts.scheme in ("http", "https") and parts.netloc:
                return f"{parts.scheme}://{parts.netloc}"
            return None
        hosts = request.headers.get_all("Host")
        match = _HOST_RE.match(hosts[0]) if len(hosts) == 1 else None
        if match is None:
            return None
        return f"{match.group(1)}:{self.dispatch_port}"  # no scheme: the page's own

    def csp(self, request: Request) -> str:
        """The page's Content-Security-Policy: connect only here and to the dispatch API."""
        origin = self.dispatch_origin(request)
        return _CSP.format(connect=f" {origin}" if origin else "")


def response(
    status: int,
    body: bytes,
    content_type: str,
    *,
    cache: str = "no-cache",
    csp: str = CSP,
) -> Response:
    """An HTTP response with the security headers every answer carries."""
    reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}.get(status, "OK")
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Content-Security-Policy", csp),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Cache-Control", cache),
            ("Connection", "close"),
        ]
    )
    return Response(status, reason, headers, body)


class StaticFiles:
    """Serves the page and ``vendor/`` from ``root``, read once and kept in memory, and the
    page's ``config.json``."""

    def __init__(self, root: Path = WEB_ROOT, config: PageConfig | None = None) -> None:
        self.root = root.resolve()
        self.config = config or PageConfig()
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
        if rel == "config.json":
            return response(200, self.config.body(), "application/json", cache="no-store")
        if ".." in rel.split("/"):
            return response(404, b"not found\n", "text/plain; charset=utf-8")
        found = self._load(rel)
        if found is None:
            return response(404, b"not found\n", "text/plain; charset=utf-8")
        body, kind = found
        cache = "public, max-age=86400" if rel.startswith("vendor/") else "no-cache"
        return response(200, body, kind, cache=cache, csp=self.config.csp(request))

"""Load shedding: past its capacity, intake answers 503 with Retry-After at once instead of
queueing requests until they time out.

    app.add_middleware(LoadShedder, shed_after=5.0, retry_after=5)

Admission is decided when a submission (any POST) arrives: if the oldest submission still
in progress has been in progress for more than ``shed_after`` seconds, the process is behind
and the new one is refused (``overloaded``) without parsing its body. Latency therefore
stays bounded by about ``shed_after`` whatever the offered load, and memory by what that
many seconds of work holds. Reads (GET) are never shed.
"""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send


class LoadShedder:
    """ASGI middleware (see the module doc)."""

    def __init__(self, app: ASGIApp, shed_after: float = 5.0, retry_after: int = 5) -> None:
        self.app = app
        self.shed_after = shed_after
        self.retry_after = retry_after
        self._ids = itertools.count()
        self._started: OrderedDict[int, float] = OrderedDict()  # in arrival order
        self.shed = 0

    def behind(self) -> bool:
        """Whether the oldest submission in progress is older than ``shed_after``."""
        if not self._started:
            return False
        oldest = next(iter(self._started.values()))
        return time.monotonic() - oldest > self.shed_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        if self.behind():
            self.shed += 1
            await self._drain(receive)
            await self._refuse(send)
            return
        ident = next(self._ids)
        self._started[ident] = time.monotonic()
        try:
            await self.app(scope, receive, send)
        finally:
            self._started.pop(ident, None)

    @staticmethod
    async def _drain(receive: Receive, limit: int = 1 << 20) -> None:
        """Read the (small) body away before answering: a connection closed with unread
        input is reset by the kernel, and the client would see a reset, not the 503."""
        seen = 0
        while seen <= limit:
            message = await receive()
            if message["type"] != "http.request":
                return
            seen += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    async def _refuse(self, send: Send) -> None:
        body = orjson.dumps(
            {
                "error": {
                    "code": "overloaded",
                    "message": "intake is at capacity; nothing was accepted, retry later",
                    "field": None,
                }
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"retry-after", str(self.retry_after).encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

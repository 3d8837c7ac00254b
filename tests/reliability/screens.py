"""Wallboard screens for the fault tests: real WebSocket clients that keep their position.

    screen = Screen(token, hub={"kind": "city", "code": ""})
    task = asyncio.create_task(screen.watch([system.url("gateway0", "ws"), ...]))
    ...  # kill a gateway: the screen reconnects to the next URL with its last_seq
    screen.matters          # matter id -> latest version seen (snapshot + deltas)
    screen.seqs             # every delta seq received, in order (gaps and repeats are visible)

A screen applies the protocol of wallboard/protocol.py: snapshot, delta and deltas frames;
it resumes with ``last_seq`` after a disconnect, exactly as the page does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake


@dataclass
class Screen:
    """One hub screen (see the module doc)."""

    token: str
    hub: dict[str, str] = field(default_factory=lambda: {"kind": "city", "code": ""})
    last_seq: str | None = None
    matters: dict[str, int] = field(default_factory=dict)
    seqs: list[str] = field(default_factory=list)
    snapshots: list[str] = field(default_factory=list)  # reasons, in order
    connects: list[tuple[float, str]] = field(default_factory=list)  # (when, url)
    errors: list[dict[str, Any]] = field(default_factory=list)
    closed_at: list[float] = field(default_factory=list)

    def _apply_delta(self, seq: str, delta: dict[str, Any]) -> None:
        self.seqs.append(seq)
        matter = delta.get("matter")
        if delta.get("kind") == "matter" and isinstance(matter, dict):
            mid = str(matter.get("id"))
            self.matters[mid] = max(self.matters.get(mid, 0), int(matter.get("version", 0)))

    def _apply(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "snapshot":
            self.snapshots.append(str(frame.get("reason")))
            for view in frame.get("matters") or frame.get("feed") or []:
                if isinstance(view, dict) and view.get("id"):
                    mid = str(view["id"])
                    self.matters[mid] = max(self.matters.get(mid, 0), int(view.get("version", 0)))
        elif kind == "delta":
            self._apply_delta(frame["seq"], frame["delta"])
        elif kind == "deltas":
            for item in frame.get("items", []):
                self._apply_delta(item["seq"], item["delta"])
        elif kind == "error":
            self.errors.append(frame)
        if frame.get("seq") and kind in ("snapshot", "delta", "deltas"):
            self.last_seq = frame["seq"]

    async def session(self, url: str) -> None:
        """One connection: hello (resuming at :attr:`last_seq`), then apply frames until closed."""
        async with connect(url + "/ws", open_timeout=5, close_timeout=1) as ws:
            self.connects.append((time.monotonic(), url))
            hello: dict[str, Any] = {"type": "hello", "token": self.token, "hub": self.hub}
            hello["last_seq"] = self.last_seq
            await ws.send(orjson.dumps(hello).decode())
            async for raw in ws:
                self._apply(orjson.loads(raw))

    async def watch(self, urls: list[str], pause: float = 0.2) -> None:
        """Stay connected forever: on a drop, go round ``urls`` (the next gateway first)."""
        i = 0
        while True:
            with contextlib.suppress(ConnectionClosed, InvalidHandshake, OSError, TimeoutError):
                await self.session(urls[i % len(urls)])
            self.closed_at.append(time.monotonic())
            i += 1
            await asyncio.sleep(pause)

    def repeated(self) -> int:
        """Delta seqs received more than once (a resume must not send them again)."""
        return sum(c - 1 for c in Counter(self.seqs).values())

    def out_of_order(self) -> int:
        """Deltas whose seq is not after the previous one (a gap-free stream is ordered)."""

        def key(seq: str) -> tuple[int, int]:
            ms, n = seq.split("-")
            return int(ms), int(n)

        keys = [key(s) for s in self.seqs]
        return sum(1 for a, b in itertools.pairwise(keys) if b <= a)

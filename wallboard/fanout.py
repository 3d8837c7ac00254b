"""Fan-out without backlogs: one shared log per hub, live broadcast, coalescing when behind.

Every delta a gateway reads is encoded once and staged in the :class:`HubChannel` of each
hub that may see it. The gateway flushes its channels once per read (at most every few tens
of milliseconds): each channel builds *one* frame for what was staged (the pre-encoded
``delta`` frame, or one ``deltas`` batch with :func:`coalesce`), serializes it once as a
WebSocket frame and writes those same bytes straight to the transport of every *live* client
(no per-client JSON, framing, task wake-up or await: the cost of ``websockets.broadcast``
minus its per-connection framing).

A client whose transport already holds more than ``buffer_limit`` unsent bytes is not
written to: it is *demoted* to a cursor into the channel's bounded ring, and its own sender
catches up with coalesced batches (latest state of each matter wins, alerts and commands are
all kept), awaiting the socket, until it is level with the channel and goes live again. A
slow screen therefore shows the latest state instead of piling up a backlog, and memory per
client stays constant. A client that falls off the ring gets a fresh snapshot instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from wallboard import metrics

#: Kinds where only the latest delta per key matters; everything else is kept in full.
_LATEST_WINS = ("matter", "kpi")


def coalesce_key(delta: dict[str, Any] | None) -> str | None:
    """The key under which later deltas replace earlier ones, or None to keep every one."""
    if delta is None:
        return None
    kind = delta.get("kind")
    if kind not in _LATEST_WINS:
        return None
    if kind == "matter":
        matter = delta.get("matter")
        mid = matter.get("id") if isinstance(matter, dict) else None
        return f"m:{mid}" if isinstance(mid, str) else None
    slice_ = [delta.get("scope"), (delta.get("data") or {}).get("dimension")]
    return "k:" + orjson.dumps(slice_, option=orjson.OPT_SORT_KEYS).decode()


@dataclass(frozen=True, slots=True)
class Item:
    """One delta as a channel holds it, prepared once for every client that gets it."""

    seq: str
    order: tuple[int, int]  # the seq as a comparable tuple
    delta: dict[str, Any] | None  # None: a marker telling every client to resync
    raw: bytes  # the delta's JSON, as the stream holds it
    key: str | None  # its coalesce key
    frame: bytes  # the encoded ``delta`` frame, shared by every client

    @classmethod
    def make(cls, seq: str, order: tuple[int, int], raw: bytes, delta: dict[str, Any]) -> Item:
        """Prepare a delta read from the stream (its frame is built without re-encoding)."""
        frame = b'{"type":"delta","seq":"' + seq.encode() + b'","delta":' + raw + b"}"
        return cls(seq, order, delta, raw, coalesce_key(delta), frame)

    @classmethod
    def marker(cls, seq: str, order: tuple[int, int]) -> Item:
        """The item telling every client of a channel to take a fresh snapshot."""
        return cls(seq, order, None, b"", None, b"")


def batch_frame(
    items: Sequence[tuple[str, bytes]], *, seq: str, coalesced: int = 0, replay: bool = False
) -> bytes:
    """A ``deltas`` frame from (seq, delta JSON) pairs, joined as bytes (nothing re-encoded)."""
    body = b",".join(b'{"seq":"' + s.encode() + b'","delta":' + raw + b"}" for s, raw in items)
    return (
        b'{"type":"deltas","seq":"'
        + seq.encode()
        + b'","items":['
        + body
        + b'],"coalesced":'
        + str(coalesced).encode()
        + b',"replay":'
        + (b"true" if replay else b"false")
        + b"}"
    )


def text_frame(payload: bytes) -> bytes:
    """``payload`` as one unmasked WebSocket text frame: the bytes a server writes for it, the
    same for every connection (the gateway runs without compression extensions)."""
    return Frame(Opcode.TEXT, payload).serialize(mask=False)


class Subscriber(Protocol):
    """A live client as a channel sees it (a :class:`wallboard.session.Session`)."""

    ws: Any

    def demote(self, cursor: int, summary_version: int) -> None:
        """Stop being live: catch up from ``cursor`` (and the summary after the version)."""


def coalesce(items: Sequence[Item]) -> tuple[list[Item], int]:
    """Merge a client's backlog: keep the last delta of each matter (and KPI slice) and every
    other delta, in sequence order. Returns the kept items and how many were merged away."""
    last_of: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.key is not None:
            last_of[item.key] = index
    kept = [
        item
        for index, item in enumerate(items)
        if item.delta is not None and (item.key is None or last_of[item.key] == index)
    ]
    return kept, len(items) - len(kept)


class HubChannel:
    """The recent deltas one hub may see, shared by all of its clients (a bounded ring), and
    its live clients.

    Positions are absolute indexes. Items before ``flushed`` went out to the live clients; a
    catching-up client holds ``cursor`` = the index of the next item it has not received.
    """

    def __init__(self, key: str, capacity: int = 10_000, buffer_limit: int = 64 * 1024) -> None:
        self.key = key
        self.capacity = capacity
        self.buffer_limit = buffer_limit
        self.subscribers = 0
        self.live: dict[Subscriber, None] = {}
        self.flushed = 0
        self._items: deque[Item] = deque()
        self._first = 0
        self._event = asyncio.Event()
        self.summary: bytes | None = None
        self.summary_version = 0

    @property
    def next_index(self) -> int:
        """The index the next appended item will get."""
        return self._first + len(self._items)

    def stage(self, item: Item) -> None:
        """Add an item (sent at the next :meth:`flush`); forget the oldest beyond capacity."""
        self._items.append(item)
        if len(self._items) > self.capacity:
            self._items.popleft()
            self._first += 1

    def append(self, item: Item) -> None:
        """Add an item and send it at once."""
        self.stage(item)
        self.flush()

    def flush(self) -> None:
        """Send what was staged since the last flush to every live client as one frame, and
        wake the clients that are catching up."""
        start = self.flushed
        if start == self.next_index:
            return
        pending = self.since(start, self.next_index)
        self.flushed = self.next_index
        if self.live:
            if pending is None or any(i.delta is None for i in pending):
                self._demote_all(start)  # they find the gap or the marker and resync
            else:
                kept, merged = coalesce(pending) if len(pending) > 1 else (pending, 0)
                if len(pending) == 1:
                    payload, kind = pending[0].frame, "delta"
                else:
                    batch = [(i.seq, i.raw) for i in kept]
                    payload = batch_frame(batch, seq=pending[-1].seq, coalesced=merged)
                    kind = "deltas"
                sent = self._broadcast(text_frame(payload), start, self.summary_version)
                if sent:
                    metrics.FRAMES_SENT.labels(kind).inc(sent)
                    metrics.DELTAS_SENT.inc(sent * len(kept))
                    metrics.DELTAS_COALESCED.inc(sent * merged)
                    lag = time.time() - pending[-1].order[0] / 1000
                    metrics.CLIENT_LAG_SECONDS.observe(max(0.0, lag))
        self._wake()

    def set_summary(self, frame: bytes) -> None:
        """Replace the hub's aggregates frame and send it to the live clients; a client that
        is behind only gets the latest."""
        self.summary = frame
        self.summary_version += 1
        if self.live:
            sent = self._broadcast(text_frame(frame), self.flushed, self.summary_version - 1)
            metrics.FRAMES_SENT.labels("summary").inc(sent)
        self._wake()

    def join_live(self, subscriber: Subscriber) -> None:
        """A client level with ``flushed`` takes every frame from now on by broadcast."""
        self.live[subscriber] = None

    def drop(self, subscriber: Subscriber) -> None:
        """A client leaves (or is demoted)."""
        self.live.pop(subscriber, None)

    def _broadcast(self, wire: bytes, cursor: int, summary_version: int) -> int:
        """Write ``wire`` to every live client's transport; demote the ones that are behind
        (to ``cursor`` and ``summary_version``). Returns how many were written to."""
        sent = 0
        behind: list[Subscriber] = []
        limit = self.buffer_limit
        for subscriber in self.live:
            ws = subscriber.ws
            if ws.protocol.state is not State.OPEN:
                continue  # closing: its session ends and leaves
            transport = ws.transport
            if transport.get_write_buffer_size() > limit:
                behind.append(subscriber)
                continue
            with contextlib.suppress(Exception):  # a dying socket: its session ends
                transport.write(wire)
                sent += 1
        for subscriber in behind:
            del self.live[subscriber]
            subscriber.demote(cursor, summary_version)
        return sent

    def _demote_all(self, cursor: int) -> None:
        live, self.live = list(self.live), {}
        for subscriber in live:
            subscriber.demote(cursor, self.summary_version)

    def _wake(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    def since(self, cursor: int, until: int | None = None) -> list[Item] | None:
        """Items from ``cursor`` up to ``until`` (default: ``flushed``); None when some of them
        were already forgotten."""
        if cursor < self._first:
            return None
        end = (self.flushed if until is None else until) - self._first
        start = cursor - self._first
        if start >= end:
            return []
        return [self._items[i] for i in range(start, end)]

    def lag(self, cursor: int) -> int:
        """How many sent items a client at ``cursor`` has not received yet."""
        return max(0, self.flushed - cursor)

    async def wait(self, cursor: int, summary_version: int = -1) -> None:
        """Return once there is a sent item at or past ``cursor`` or a summary newer than
        ``summary_version`` (-1: ignore summaries)."""
        while cursor >= self.flushed and summary_version in (-1, self.summary_version):
            await self._event.wait()

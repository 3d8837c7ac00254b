"""Fan-out without backlogs: one shared log per hub, one cursor per client, coalescing.

Every delta a gateway reads is encoded once and appended to the :class:`HubChannel` of each
hub that may see it. A client is only a cursor into its hub's channel. Its sender takes
everything past the cursor: one item goes out as the pre-encoded frame (shared by all the
hub's clients); several items mean the client is behind, so :func:`coalesce` merges them
(latest state of each matter wins, alerts and commands are all kept) into one batch. A slow
screen therefore shows the latest state instead of piling up a backlog, and memory per
client stays constant. A client that falls off the channel's bounded ring gets a fresh
snapshot instead.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

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
    """The recent deltas one hub may see, shared by all of its clients (a bounded ring).

    Positions are absolute indexes: a client holds ``cursor`` = the index of the next item
    it has not received yet.
    """

    def __init__(self, key: str, capacity: int = 10_000) -> None:
        self.key = key
        self.capacity = capacity
        self.subscribers = 0
        self._items: deque[Item] = deque()
        self._first = 0
        self._event = asyncio.Event()
        self.summary: bytes | None = None
        self.summary_version = 0

    @property
    def next_index(self) -> int:
        """The index the next appended item will get (a new client's cursor)."""
        return self._first + len(self._items)

    def append(self, item: Item) -> None:
        """Add an item, forget the oldest beyond capacity, and wake the waiting senders."""
        self._items.append(item)
        if len(self._items) > self.capacity:
            self._items.popleft()
            self._first += 1
        self._wake()

    def set_summary(self, frame: bytes) -> None:
        """Replace the hub's aggregates frame; a client that is behind only gets the latest."""
        self.summary = frame
        self.summary_version += 1
        self._wake()

    def _wake(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    def since(self, cursor: int) -> list[Item] | None:
        """Items from ``cursor`` on; None when some of them were already forgotten."""
        if cursor < self._first:
            return None
        start = cursor - self._first
        if start >= len(self._items):
            return []
        return [self._items[i] for i in range(start, len(self._items))]

    def lag(self, cursor: int) -> int:
        """How many items a client at ``cursor`` has not received yet."""
        return max(0, self.next_index - cursor)

    async def wait(self, cursor: int, summary_version: int = -1) -> None:
        """Return once there is an item at or past ``cursor`` or a summary newer than
        ``summary_version`` (-1: ignore summaries)."""
        while cursor >= self.next_index and summary_version in (-1, self.summary_version):
            await self._event.wait()

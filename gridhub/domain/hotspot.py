"""Hotspot detection: many matters of one category in one grid within a time window.

    detector = HotspotDetector(threshold=5, window=timedelta(hours=24))
    alert = detector.observe("G001", "ROAD", at, matter_id="M1")   # GridAlert | None

A hotspot raises at most one :class:`GridAlert` per (grid, category) per window: after an
alert, the next one can come no earlier than ``window`` later. The detector is a small
in-memory structure (one per stream partition); keep it in a table with :meth:`to_dict`
and :meth:`from_dict` to survive restarts.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from gridhub.domain.codec import parse_datetime
from gridhub.domain.commands import SYSTEM
from gridhub.domain.events import GridAlert


class HotspotDetector:
    """Counts recent matters per (grid, category) and says when a hotspot appears."""

    def __init__(self, threshold: int = 5, window: timedelta = timedelta(hours=24)) -> None:
        self.threshold = max(1, threshold)
        self.window = window
        self._seen: dict[tuple[str, str], list[datetime]] = {}
        self._alerted: dict[tuple[str, str], datetime] = {}

    def observe(
        self, grid: str, category: str, at: datetime, matter_id: str = ""
    ) -> GridAlert | None:
        """Record one matter; return a hotspot alert when this one makes the count reach the
        threshold within the window and no alert was raised for the key in the last window."""
        key = (grid, category)
        times = self._seen.setdefault(key, [])
        insort(times, at)
        cutoff = at - self.window
        while times and times[0] <= cutoff:
            times.pop(0)
        if len(times) < self.threshold:
            return None
        last = self._alerted.get(key)
        if last is not None and at - last < self.window:
            return None
        self._alerted[key] = at
        return GridAlert(
            matter_id=matter_id,
            actor=SYSTEM,
            at=at,
            before_state="",
            after_state="",
            version=0,
            reason="hotspot",
            grid=grid,
            category=category,
            detail=f"{len(times)} matters of {category} in grid {grid} within {self.window}",
        )

    def count(self, grid: str, category: str) -> int:
        """Matters currently remembered for (grid, category)."""
        return len(self._seen.get((grid, category), ()))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able snapshot (keys ``"grid|category"``)."""
        return {
            "threshold": self.threshold,
            "window_seconds": self.window.total_seconds(),
            "seen": {f"{g}|{c}": [t.isoformat() for t in ts] for (g, c), ts in self._seen.items()},
            "alerted": {f"{g}|{c}": t.isoformat() for (g, c), t in self._alerted.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HotspotDetector:
        """Rebuild from :meth:`to_dict`."""
        out = cls(int(data["threshold"]), timedelta(seconds=float(data["window_seconds"])))
        for key, ts in data.get("seen", {}).items():
            grid, _, category = key.partition("|")
            out._seen[(grid, category)] = sorted(parse_datetime(t) for t in ts)
        for key, t in data.get("alerted", {}).items():
            grid, _, category = key.partition("|")
            out._alerted[(grid, category)] = parse_datetime(t)
        return out

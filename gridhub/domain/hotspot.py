"""Hotspot detection: many matters of one category in one grid within a time window.

    detector = HotspotDetector(threshold=5, window=timedelta(hours=24), load=saved_entry)
    alert = detector.observe("G001", "ROAD", at, matter_id="M1")   # GridAlert | None
    for (grid, category), entry in detector.take_touched().items(): save(grid, category, entry)

A hotspot raises at most one :class:`GridAlert` per (grid, category) per window: after an
alert, the next one can come no earlier than ``window`` later.

What survives a restart is kept per (grid, category), not as one snapshot of the detector:
:meth:`take_touched` gives the saved form (:meth:`entry`) of each pair observed since its
last call, and ``load(grid, category)`` gives it back the first time a pair is observed
again. So saving costs what changed, and no saved record grows with the number of pairs:
one snapshot of a stream partition's detector held every matter of the window and passed
Kafka's 1 MB record limit after ~30,000 matters (seen in bench/pipeline.py).
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from gridhub.domain.codec import parse_datetime
from gridhub.domain.commands import SYSTEM
from gridhub.domain.events import GridAlert

#: the saved form of one (grid, category): ``{"seen": [ISO time, ...], "alerted": ISO | None}``
Entry = Mapping[str, Any]


class HotspotDetector:
    """Counts recent matters per (grid, category) and says when a hotspot appears;
    ``load(grid, category)``: the pair's saved :meth:`entry`, or None (see module doc)."""

    def __init__(
        self,
        threshold: int = 5,
        window: timedelta = timedelta(hours=24),
        load: Callable[[str, str], Entry | None] | None = None,
    ) -> None:
        self.threshold = max(1, threshold)
        self.window = window
        self._load = load
        self._seen: dict[tuple[str, str], list[datetime]] = {}
        self._alerted: dict[tuple[str, str], datetime] = {}
        self._touched: set[tuple[str, str]] = set()

    def observe(
        self, grid: str, category: str, at: datetime, matter_id: str = ""
    ) -> GridAlert | None:
        """Record one matter; return a hotspot alert when this one makes the count reach the
        threshold within the window and no alert was raised for the key in the last window."""
        key = (grid, category)
        times = self._seen.get(key)
        if times is None:
            times = self._seen[key] = self._restore(key)
        self._touched.add(key)
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

    def entry(self, grid: str, category: str) -> dict[str, Any]:
        """The saved form of one (grid, category): the newest ``threshold`` times of its
        matters within the window as last observed, and its last alert. Older times never
        decide an alert again (if the newest ``threshold`` are not all within a window,
        fewer than ``threshold`` are), so a restored detector decides as this one would;
        only :meth:`count` starts lower."""
        alerted = self._alerted.get((grid, category))
        times = self._seen.get((grid, category), [])
        return {
            "seen": [t.isoformat() for t in times[-self.threshold :]],
            "alerted": alerted.isoformat() if alerted is not None else None,
        }

    def take_touched(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The :meth:`entry` of each (grid, category) observed since the last call."""
        out = {key: self.entry(*key) for key in self._touched}
        self._touched.clear()
        return out

    def _restore(self, key: tuple[str, str]) -> list[datetime]:
        saved = self._load(*key) if self._load is not None else None
        if not saved:
            return []
        if saved.get("alerted"):
            self._alerted[key] = parse_datetime(saved["alerted"])
        return sorted(parse_datetime(t) for t in saved.get("seen", ()))

"""Hotspot detection: many matters of one category in one grid within a time window.

    detector = HotspotDetector(threshold=5, window=timedelta(hours=24))
    alert = detector.observe("G001", "ROAD", at, matter_id="M1")   # GridAlert | None

The rule: a matter observed at ``at`` is counted with the matters of its (grid, category)
seen after ``at - window``; when the count reaches ``threshold`` and no hotspot alert was
raised for the pair in the last ``window``, this matter raises one (:func:`hotspot_alert`).
So a hotspot raises at most one :class:`GridAlert` per (grid, category) per window.

The stream worker counts in Redis, not in this class: matters are partitioned by matter
id, so one worker's detector would see only its partitions' share of a grid's matters.
:mod:`streams.hotspots` applies this same rule, atomically, to the whole city's counts;
its integration test checks its decisions against this class's on random sequences.
"""

from __future__ import annotations

from bisect import insort
from datetime import datetime, timedelta

from gridhub.domain.commands import SYSTEM
from gridhub.domain.events import GridAlert


def hotspot_alert(
    grid: str, category: str, at: datetime, matter_id: str, count: int, window: timedelta
) -> GridAlert:
    """The grid alert a hotspot raises, on the matter that made the count reach the
    threshold (``count``: matters of the pair within the window, that one included)."""
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
        detail=f"{count} matters of {category} in grid {grid} within {window}",
    )


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
        return hotspot_alert(grid, category, at, matter_id, len(times), self.window)

    def count(self, grid: str, category: str) -> int:
        """Matters currently remembered for (grid, category)."""
        return len(self._seen.get((grid, category), ()))

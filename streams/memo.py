"""A bounded memo of recent entries: O(1) operations, no scan, no eviction cliff.

    recent: Recent[str, int] = Recent(10_000)
    recent.put("a", 1)
    recent.get("a")   # 1, until at least 10,000 other entries were put or hit since

Two generations: entries are put into the young one; when it holds ``size`` entries it
becomes the old one (the previous old one is dropped) and a fresh young one starts. A hit
in the old generation moves the entry back into the young one. So the memo holds at most
``2 * size`` entries, and an entry put or hit is kept at least until ``size`` other entries
have been put or hit after it.

Why bounded: every object the worker keeps is scanned by each full collection of Python's
cyclic GC, which stops the worker (and so the deadline firer) meanwhile. The worker's
caches of decoded objects are bounded so that the pause does not grow with the number of
matters the worker holds (:mod:`streams.states`, :mod:`streams.processor`).
"""

from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """The memo of the module doc; ``size`` ≥ 1 entries per generation."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size}")
        self.size = size
        self._young: dict[K, V] = {}
        self._old: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        """The entry of ``key``, or None when it was never put or has been dropped."""
        found = self._young.get(key)
        if found is not None:
            return found
        found = self._old.pop(key, None)
        if found is not None:
            self.put(key, found)
        return found

    def put(self, key: K, value: V) -> None:
        """Remember ``value`` for ``key`` (replacing what it had)."""
        self._old.pop(key, None)
        young = self._young
        if key not in young and len(young) >= self.size:
            self._old, self._young = young, {}
            young = self._young
        young[key] = value

    def __len__(self) -> int:
        """How many entries are held (an entry is in one generation only)."""
        return len(self._young) + len(self._old)

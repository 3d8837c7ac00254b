"""Reading lists of matters out of the projections: a sorted set of ids → filtered views.

    page = await page_of(svc, p, [keys.dept_queue("ZJJ")], Filters(state="assigned"), 50, 0)

Ids are taken in score order (deadline first); views the caller may not see are dropped
(defence in depth, besides the route's own scope check).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from dispatch.auth import can_view
from dispatch.deps import Services, text
from gridhub.auth import Principal


@dataclass(frozen=True)
class Filters:
    """Optional equality filters on a MatterView."""

    state: str | None = None
    warning_level: str | None = None
    category: str | None = None
    township: str | None = None

    def match(self, view: dict[str, Any]) -> bool:
        """Whether ``view`` passes every filter that is set."""
        return (
            (self.state is None or view.get("state") == self.state)
            and (self.warning_level is None or view.get("warning_level") == self.warning_level)
            and (self.category is None or view.get("category") == self.category)
            and (self.township is None or view.get("township") == self.township)
        )


async def _ids_in_order(svc: Services, keys: Sequence[str]) -> list[str]:
    """Every id in the sorted sets ``keys``, merged by score, each once."""
    if len(keys) == 1:
        raw = await svc.redis.zrange(keys[0], 0, -1)
        return [text(r) for r in raw]
    async with svc.redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.zrange(key, 0, -1, withscores=True)
        results = await pipe.execute()
    streams = [[(score, text(member)) for member, score in res] for res in results]
    seen: set[str] = set()
    out: list[str] = []
    for _, member in heapq.merge(*streams):
        if member not in seen:
            seen.add(member)
            out.append(member)
    return out


async def _fast_page(
    svc: Services, p: Principal, key: str, limit: int, offset: int
) -> dict[str, Any]:
    """An unfiltered page of one sorted set: read exactly the ids of the page (plus one)."""
    ids = [text(r) for r in await svc.redis.zrange(key, offset, offset + limit)]
    more = len(ids) > limit
    items = []
    if ids:
        for blob in await svc.redis.mget([svc.keys.matter(i) for i in ids[:limit]]):
            if blob is None:
                continue
            view = orjson.loads(blob)
            if can_view(p, view, svc.city):
                items.append(view)
    return {"items": items, "count": len(items), "next_offset": offset + limit if more else None}


async def page_of(
    svc: Services,
    p: Principal,
    keys: Sequence[str],
    filters: Filters,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """One page (``limit`` items after skipping ``offset`` matches) of the visible, matching
    matters in ``keys``, in deadline order."""
    if len(keys) == 1 and filters == Filters():
        return await _fast_page(svc, p, keys[0], limit, offset)
    chunk_size = max(2 * limit, 64)
    items: list[dict[str, Any]] = []
    matched = 0
    more = False
    if len(keys) == 1:
        ids_source: list[str] | None = None
        total = await svc.redis.zcard(keys[0])
    else:
        ids_source = await _ids_in_order(svc, keys)
        total = len(ids_source)
    start = 0
    while start < total and not more:
        if ids_source is None:
            raw = await svc.redis.zrange(keys[0], start, start + chunk_size - 1)
            chunk = [text(r) for r in raw]
        else:
            chunk = ids_source[start : start + chunk_size]
        start += chunk_size
        if not chunk:
            break
        blobs = await svc.redis.mget([svc.keys.matter(i) for i in chunk])
        for blob in blobs:
            if blob is None:
                continue
            view = orjson.loads(blob)
            if not filters.match(view) or not can_view(p, view, svc.city):
                continue
            matched += 1
            if matched <= offset:
                continue
            if len(items) >= limit:
                more = True
                break
            items.append(view)
    return {
        "items": items,
        "count": len(items),
        "next_offset": offset + len(items) if more else None,
    }

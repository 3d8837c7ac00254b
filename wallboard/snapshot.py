"""What a hub's board shows on connect: read from the Redis projections within its scope.

:class:`BoardReader` builds a hub's *board state* — KPI counters (the 三率 from
:mod:`gridhub.domain.kpis`), open matters, active warnings, one-click commands, the units of
the hierarchy view shaded by open/overdue, rankings and trends — and caches it per hub for
about a second, so thousands of screens connecting at once cost one read per hub. The
state carries the stream position it is at least as new as; the gateway sends the deltas
after that position, so nothing falls between snapshot and deltas.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import redis.asyncio as aioredis

from gridhub.domain import sla
from gridhub.domain.hierarchy import City
from gridhub.domain.kpis import Kpis
from gridhub.keys import RedisKeys
from wallboard.protocol import HubRef
from wallboard.scope import alert_delta, hub_keys

LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # the city's clock, for days and hours
MAX_MATTERS = 300
MAX_COMMANDS = 50
OPEN_STATES = ("accepted", "assigned", "signed_for", "in_progress")


def hub_info(hub: HubRef, city: City) -> dict[str, Any]:
    """Names of the hub, its parent (for the breadcrumb) and its kind; the city hub also lists
    the departments (the targets of its one-click commands besides the townships)."""
    if hub.kind == "city":
        unit: Any = city
    else:
        unit = {"township": city.townships, "village": city.villages}.get(
            hub.kind, city.departments
        )[hub.code]
    info: dict[str, Any] = {
        "kind": hub.kind,
        "code": hub.code,
        "name_zh": unit.name_zh,
        "name_en": unit.name_en,
        "city_zh": city.name_zh,
        "city_en": city.name_en,
    }
    if hub.kind == "village":
        township = city.townships[city.villages[hub.code].township]
        info["parent"] = {
            "kind": "township",
            "code": township.code,
            "name_zh": township.name_zh,
            "name_en": township.name_en,
        }
    if hub.kind == "city":
        info["departments"] = [
            {"kind": "department", "code": d.code, "name_zh": d.name_zh, "name_en": d.name_en}
            for d in city.departments.values()
        ]
    return info


def warning_deadline(alert: dict[str, Any], matter: dict[str, Any] | None) -> str | None:
    """The deadline a warning is about (its matter's deadline of that kind), which is what the
    board counts down to; the alert's own ``due_at`` is when the warning fired (a yellow one
    fires before the deadline, an escalation after it)."""
    if alert.get("level") == "red":
        return str(alert.get("due_at") or "") or None  # red fires at the deadline
    try:
        kind = sla.parse_warning_id(str(alert.get("id") or ""))[1]
    except ValueError:
        kind = str(alert.get("kind") or "")
    deadline = ((matter or {}).get("deadlines") or {}).get(kind) or {}
    due = deadline.get("due_at")
    return due if isinstance(due, str) and due else None


def is_overdue(matter: dict[str, Any], now: datetime) -> bool:
    """Past its resolve deadline (or already warned red / escalated)."""
    if matter.get("warning_level") in ("red", "escalated"):
        return True
    due = ((matter.get("deadlines") or {}).get("resolve") or {}).get("due_at")
    if not isinstance(due, str):
        return False
    try:
        return datetime.fromisoformat(due) < now
    except (TypeError, ValueError):
        return False


def _rate_fields(kpis: Kpis) -> dict[str, Any]:
    return {
        "accepted": kpis.accepted,
        "completed": kpis.completed,
        "on_time": kpis.on_time,
        "rated": kpis.rated,
        **kpis.rates(),
    }


class BoardReader:
    """Reads board states from Redis; one per gateway process."""

    def __init__(
        self,
        city: City,
        redis: aioredis.Redis,
        keys: RedisKeys,
        position: Callable[[], str],
        ttl_seconds: float = 1.0,
    ) -> None:
        self.city = city
        self.redis: Any = redis
        self.keys = keys
        self.position = position
        self.ttl = ttl_seconds
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._inflight: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._past_days: dict[str, tuple[str, float, list[list[int]]]] = {}

    async def state(self, hub: HubRef, fresh: bool = False) -> dict[str, Any]:
        """The hub's board state (cached ~1 s; ``fresh`` skips the cache)."""
        now = time.monotonic()
        cached = self._cache.get(hub.key)
        if cached and not fresh and now - cached[0] < self.ttl:
            return cached[1]
        return await self._single_flight(hub.key, lambda: self._build(hub))

    async def _single_flight(
        self, key: str, build: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            state = await build()
            self._cache[key] = (time.monotonic(), state)
            future.set_result(state)
            return state
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        finally:
            del self._inflight[key]

    def _open_sources(self, hub: HubRef) -> list[str]:
        k, city = self.keys, self.city
        if hub.kind == "city":
            return [k.hub_open("city", city.code)] + [
                k.hub_open("township", t) for t in city.townships
            ]
        if hub.kind == "township":
            return [k.hub_open("township", hub.code)] + [
                k.hub_open("village", v) for v in city.villages_of(hub.code)
            ]
        if hub.kind == "village":
            return [k.hub_open("village", hub.code)]
        return [k.dept_queue(hub.code)]

    async def _open_matters(self, hub: HubRef) -> list[dict[str, Any]]:
        pipe = self.redis.pipeline(transaction=False)
        for source in self._open_sources(hub):
            pipe.zrange(source, 0, -1)
        ids: list[str] = []
        seen: set[bytes] = set()
        for members in await pipe.execute():
            for member in members:
                if member not in seen:
                    seen.add(member)
                    ids.append(member.decode())
        if not ids:
            return []
        views = await self.redis.mget([self.keys.matter(i) for i in ids])
        out = []
        for blob in views:
            if blob is None:
                continue
            matter = orjson.loads(blob)
            if matter.get("state") in OPEN_STATES and hub.key in hub_keys(
                {"kind": "matter", "matter": matter}, self.city
            ):
                out.append(matter)
        return out

    async def _warnings(self, hub: HubRef) -> list[dict[str, Any]]:
        out = []
        for member in await self.redis.zrange(self.keys.warnings(), 0, -1):
            try:
                alert = orjson.loads(member)
            except orjson.JSONDecodeError:
                continue
            if isinstance(alert, dict) and hub.key in hub_keys(alert_delta(alert, ""), self.city):
                out.append(alert)
        return out

    async def _commands(self, hub: HubRef) -> list[dict[str, Any]]:
        out = []
        for blob in (await self.redis.hgetall(self.keys.wallboard_commands())).values():
            entry = orjson.loads(blob)
            delta = {"kind": "command", "scope": entry.get("scope") or {}, "data": entry}
            if entry.get("text") is not None and hub.key in hub_keys(delta, self.city):
                out.append(entry)
        out.sort(key=lambda e: str(e.get("issued_at") or ""), reverse=True)
        return out[:MAX_COMMANDS]

    def _kpi_ref(self, hub: HubRef) -> tuple[str, str]:
        return ("city", self.city.code) if hub.kind == "city" else (hub.kind, hub.code)

    async def _kpis(self, refs: Iterable[tuple[str, str]], day: str) -> list[Kpis]:
        pipe = self.redis.pipeline(transaction=False)
        for dimension, code in refs:
            pipe.hgetall(self.keys.kpi(dimension, code, day))
        out = []
        for raw in await pipe.execute():
            counters = {k.decode(): int(v) for k, v in raw.items() if v.lstrip(b"-").isdigit()}
            out.append(Kpis.from_deltas(counters))
        return out

    async def _trend(self, hub: HubRef, today: datetime) -> dict[str, Any]:
        days = [(today - timedelta(days=n)).strftime("%Y%m%d") for n in range(29, -1, -1)]
        fields = [f"{hub.key}|{m}|{h:02d}" for m in ("accepted", "resolved") for h in range(24)]
        cached = self._past_days.get(hub.key)
        fresh = cached is not None and cached[0] == days[-1] and time.monotonic() - cached[1] < 600
        wanted = days[-1:] if fresh else days  # past days change rarely: re-read every 10 min
        pipe = self.redis.pipeline(transaction=False)
        for day in wanted:
            pipe.hmget(self.keys.wallboard_hourly(day), fields)
        rows = [[int(v or 0) for v in row] for row in await pipe.execute()]
        if fresh:
            assert cached is not None
            per_day = cached[2] + rows
        else:
            per_day = rows
            self._past_days[hub.key] = (days[-1], time.monotonic(), rows[:-1])
        return {
            "hours": [f"{h:02d}" for h in range(24)],
            "today_accepted": per_day[-1][:24],
            "today_resolved": per_day[-1][24:],
            "days": [f"{d[4:6]}-{d[6:]}" for d in days],
            "daily_accepted": [sum(r[:24]) for r in per_day],
            "daily_resolved": [sum(r[24:]) for r in per_day],
        }

    def _children(self, hub: HubRef) -> list[tuple[str, str, str, str]]:
        """(kind, code, name_zh, name_en) of the units the hierarchy view shows."""
        c = self.city
        if hub.kind == "city":
            return [("township", t.code, t.name_zh, t.name_en) for t in c.townships.values()]
        if hub.kind == "township":
            return [
                ("village", v, c.villages[v].name_zh, c.villages[v].name_en)
                for v in c.villages_of(hub.code)
            ]
        if hub.kind == "village":
            return [
                ("grid", g.code, g.name_zh, g.code)
                for g in c.grids.values()
                if g.village == hub.code
            ]
        return []

    async def aggregates(
        self, hub: HubRef, matters: list[dict[str, Any]] | None = None, warnings: int | None = None
    ) -> dict[str, Any]:
        """KPI counters, hierarchy units, rankings and trends of a hub (the ``summary``)."""
        if matters is None:
            matters = await self._open_matters(hub)
        if warnings is None:
            warnings = len(await self._warnings(hub))
        now = datetime.now(UTC)
        today = now.astimezone(LOCAL_TZ)
        day = today.strftime("%Y%m%d")
        overdue = [m for m in matters if is_overdue(m, now)]
        trend = await self._trend(hub, today)
        own = (await self._kpis([self._kpi_ref(hub)], day))[0]
        source = "kpi"
        if own == Kpis():  # no KPI projection for this hub yet: what the gateway saw today
            own = Kpis(accepted=sum(trend["today_accepted"]), resolved=sum(trend["today_resolved"]))
            source = "gateway"
        kpis = {
            **_rate_fields(own),
            "open": len(matters),
            "overdue": len(overdue),
            "warnings": warnings
            or sum(1 for m in matters if m.get("warning_level") not in (None, "none")),
            "source": source,
            "day": day,
        }
        children = self._children(hub)
        child_field = children[0][0] if children else ""
        open_by = Counter(m.get(child_field) for m in matters)
        over_by = Counter(m.get(child_field) for m in overdue)
        units = [
            {
                "kind": k,
                "code": code,
                "name_zh": zh,
                "name_en": en,
                "open": open_by.get(code, 0),
                "overdue": over_by.get(code, 0),
            }
            for k, code, zh, en in children
        ]
        ranking = await self._ranking(hub, matters, overdue, day, units)
        return {"kpis": kpis, "units": units, "ranking": ranking, "trend": trend}

    async def _ranking(
        self,
        hub: HubRef,
        matters: list[dict[str, Any]],
        overdue: list[dict[str, Any]],
        day: str,
        units: list[dict[str, Any]],
    ) -> dict[str, Any]:
        depts = sorted(
            {d for m in matters for d in m.get("departments") or () if d in self.city.departments}
            | (set(self.city.departments) if hub.kind == "city" else set())
        )
        d_open = Counter(d for m in matters for d in m.get("departments") or ())
        d_over = Counter(d for m in overdue for d in m.get("departments") or ())
        d_kpis = await self._kpis([("department", d) for d in depts], day)
        units_ranked = [u for u in units if u["kind"] in ("township", "village")]
        u_kpis = await self._kpis([(u["kind"], u["code"]) for u in units_ranked], day)

        def row(kind: str, code: str, zh: str, en: str, k: Kpis, op: int, ov: int) -> dict:
            return {
                "kind": kind,
                "code": code,
                "name_zh": zh,
                "name_en": en,
                "open": op,
                "overdue": ov,
                **_rate_fields(k),
            }

        dept_rows = [
            row(
                "department",
                d,
                self.city.departments[d].name_zh,
                self.city.departments[d].name_en,
                k,
                d_open[d],
                d_over[d],
            )
            for d, k in zip(depts, d_kpis, strict=True)
        ]
        unit_rows = [
            row(u["kind"], u["code"], u["name_zh"], u["name_en"], k, u["open"], u["overdue"])
            for u, k in zip(units_ranked, u_kpis, strict=True)
        ]

        def order(r: dict[str, Any]) -> tuple[Any, ...]:
            rate = r["completion_rate"]
            return (r["overdue"], -(rate if rate is not None else -1), r["open"], r["code"])

        return {
            "departments": sorted(dept_rows, key=order)[:12],
            "units": sorted(unit_rows, key=order)[:12],
        }

    async def _build(self, hub: HubRef) -> dict[str, Any]:
        seq = self.position()  # read first: the projections below are at least this new
        matters, warnings, commands = await asyncio.gather(
            self._open_matters(hub), self._warnings(hub), self._commands(hub)
        )
        aggregates = await self.aggregates(hub, matters, len(warnings))
        by_id = {m.get("id"): m for m in matters}
        for alert in warnings:
            alert["deadline"] = warning_deadline(alert, by_id.get(alert.get("matter_id")))
        matters.sort(
            key=lambda m: str(
                ((m.get("deadlines") or {}).get("resolve") or {}).get("due_at") or "9"
            )
        )
        return {
            "seq": seq,
            "hub": hub_info(hub, self.city),
            **aggregates,
            "matters": matters[:MAX_MATTERS],
            "warnings": warnings,
            "commands": commands,
            "at": datetime.now(UTC).isoformat(),
        }

"""Builders shared by the domain tests: a small city, actors, and command shortcuts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gridhub.domain.calendar import WorkCalendar
from gridhub.domain.commands import Accept, Actor, Command, Role, ScopeKind
from gridhub.domain.context import Context
from gridhub.domain.events import Event, Rejected
from gridhub.domain.hierarchy import (
    BoundingBox,
    Category,
    City,
    Department,
    Duration,
    Grid,
    GridKind,
    Sla,
    Tier,
    Township,
    Village,
)
from gridhub.domain.machine import apply
from gridhub.domain.matter import Matter

SH = ZoneInfo("Asia/Shanghai")
# Tuesday 2025-06-03 09:00 in Shanghai: an ordinary working day.
T0 = datetime(2025, 6, 3, 9, 0, tzinfo=SH).astimezone(UTC)


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A Shanghai wall-clock time as a UTC datetime."""
    return datetime(y, m, d, hh, mm, tzinfo=SH).astimezone(UTC)


def sla(sign: str, resolve: str, report: str) -> Sla:
    return Sla(Duration.parse(sign), Duration.parse(resolve), Duration.parse(report))


def build_city() -> City:
    townships = {
        "T1": Township("T1", "一镇", "Town One", "town"),
        "T2": Township("T2", "二街", "Street Two", "street"),
    }
    villages = {
        "V1": Village("V1", "一村", "Village One", "T1", "village"),
        "V2": Village("V2", "二村", "Village Two", "T1", "village"),
        "V3": Village("V3", "三社区", "Community Three", "T2", "community"),
    }
    grids = {
        "G1": Grid("G1", "网格1", "V1", GridKind.RURAL, 44.40, 126.90),
        "G2": Grid("G2", "网格2", "V1", GridKind.RURAL, 44.41, 126.91),
        "G3": Grid("G3", "网格3", "V2", GridKind.URBAN, 44.42, 126.92),
        "G4": Grid("G4", "网格4", "V3", GridKind.EXCLUSIVE, 44.43, 126.93),
    }
    departments = {
        "URBAN": Department("URBAN", "城管局", "Urban Management"),
        "WATER": Department("WATER", "水务局", "Water Bureau"),
        "JUSTICE": Department("JUSTICE", "司法局", "Justice Bureau"),
    }
    normal_urgent = {
        "normal": sla("2h", "3wd", "4h"),
        "urgent": sla("30m", "1wd", "1h"),
    }
    categories = {
        "ROAD": Category(
            "ROAD", "道路", "Road", "livelihood", Tier.VILLAGE, ("URBAN",), normal_urgent
        ),
        "DISPUTE": Category(
            "DISPUTE", "纠纷", "Dispute", "dispute", Tier.TOWNSHIP, ("JUSTICE",), normal_urgent
        ),
        "PERMIT": Category(
            "PERMIT", "审批", "Permit", "enterprise", Tier.CITY, ("URBAN",), normal_urgent
        ),
        "WATER": Category(
            "WATER",
            "供水",
            "Water supply",
            "livelihood",
            Tier.DEPARTMENT,
            ("WATER", "URBAN"),
            normal_urgent,
        ),
        "MAJOR": Category("MAJOR", "重大", "Major", "dispute", Tier.LEADER, (), normal_urgent),
        "TEST-FAST": Category(
            "TEST-FAST",
            "测试",
            "Test fast",
            "livelihood",
            Tier.VILLAGE,
            ("URBAN",),
            {"normal": sla("2s", "10s", "5s")},
        ),
    }
    by_township: dict[str, tuple[str, ...]] = {}
    for v in villages.values():
        by_township[v.township] = (*by_township.get(v.township, ()), v.code)
    return City(
        code="C1",
        name_zh="测试市",
        name_en="Testcity",
        bbox=BoundingBox(44.0, 126.0, 45.0, 128.0),
        townships=townships,
        villages=villages,
        grids=grids,
        departments=departments,
        categories=categories,
        urgencies=("normal", "urgent"),
        _villages_by_township=by_township,
    )


CITY = build_city()
CTX = Context(CITY, WorkCalendar())


def actor(role: Role, scope_kind: ScopeKind = "none", code: str = "", user: str = "") -> Actor:
    return Actor(
        user_id=user or f"{role}-{code or 'x'}", role=role, scope_kind=scope_kind, scope_code=code
    )


SYSTEM = actor("system", "city", "C1", "system")
OPERATOR = actor("city_operator", "city", "C1", "op1")
SUPERVISOR = actor("supervisor", "city", "C1", "sup1")
LEADER = actor("leader", "city", "C1", "boss")
AUDITOR = actor("auditor", "city", "C1", "aud")
CITIZEN = actor("citizen", "none", "", "citizen1")


def village(code: str) -> Actor:
    return actor("village_hub", "village", code)


def township(code: str) -> Actor:
    return actor("township_hub", "township", code)


def dept(code: str) -> Actor:
    return actor("department", "department", code)


def worker(grid: str) -> Actor:
    return actor("grid_worker", "grid", grid)


def accept(
    matter_id: str = "M1", category: str = "ROAD", grid: str = "G1", at: datetime = T0, **kw: Any
) -> Accept:
    fields: dict[str, Any] = {
        "source": "app",
        "source_id": f"src-{matter_id}",
        "received_at": at,
        "description": "a pothole",
        "actor": SYSTEM,
    }
    fields.update(kw)
    return Accept(matter_id=matter_id, at=at, category=category, grid=grid, **fields)


def run(
    state: Matter | None, *commands: Command, ctx: Context = CTX
) -> tuple[Matter | None, list[Event]]:
    """Apply commands in order; return the final state and all events."""
    out: list[Event] = []
    for c in commands:
        state, events = apply(state, c, ctx)
        out.extend(events)
    return state, out


def ok(state: Matter | None, command: Command, ctx: Context = CTX) -> tuple[Matter, list[Event]]:
    """Apply a command that must succeed."""
    new, events = apply(state, command, ctx)
    assert events, "expected events"
    bad = [e for e in events if isinstance(e, Rejected)]
    assert not bad, bad[0].reason
    assert new is not None
    return new, events


def rejected(state: Matter | None, command: Command, ctx: Context = CTX) -> str:
    """Apply a command that must be rejected; return the reason. State must be unchanged."""
    new, events = apply(state, command, ctx)
    assert new is state
    assert len(events) == 1 and isinstance(events[0], Rejected), events
    return events[0].reason


def later(minutes: float = 0, hours: float = 0, days: float = 0, base: datetime = T0) -> datetime:
    return base + timedelta(minutes=minutes, hours=hours, days=days)

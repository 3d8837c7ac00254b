"""Seeding the Redis projections in the documented shapes (gridhub.views), for read-side tests.

These write what streams/ writes — MatterView JSON, queue and hub sorted sets, timeline
events, contact, warnings, KPI hashes — so the API's reads can be tested on their own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import redis.asyncio as aioredis

from gridhub.keys import RedisKeys

T0 = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def make_view(
    matter_id: str,
    *,
    grid: str = "T01-V001-G001",
    owner: tuple[str, str] = ("department", "ZJJ"),
    state: str = "assigned",
    departments: list[str] | None = None,
    category: str = "LIV-HEATING",
    warning_level: str = "none",
    due: datetime | None = None,
    description: str = "楼道暖气不热",
    version: int = 3,
    **extra: Any,
) -> dict[str, Any]:
    """A MatterView as streams/ projects it."""
    village = grid.rsplit("-", 1)[0]
    township = village.split("-")[0]
    if departments is None:
        departments = [owner[1]] if owner[0] == "department" else []
    due = due or T0 + timedelta(days=5)
    view: dict[str, Any] = {
        "id": matter_id,
        "source": "hotline-12345",
        "category": category,
        "urgency": "normal",
        "grid": grid,
        "village": village,
        "township": township,
        "description": description,
        "attachments": [],
        "state": state,
        "owner": {"kind": owner[0], "code": owner[1]},
        "tier": owner[0],
        "departments": departments,
        "deadlines": {"resolve": {"due_at": iso(due), "level": warning_level}},
        "warning_level": warning_level,
        "supervised": False,
        "urge_count": 0,
        "accepted_at": iso(T0),
        "updated_at": iso(T0),
        "version": version,
    }
    view.update(extra)
    return view


async def put_view(redis: aioredis.Redis, keys: RedisKeys, view: dict[str, Any]) -> None:
    """Write a view and index it where streams/ would: the owner's queue or open set."""
    await redis.set(keys.matter(view["id"]), orjson.dumps(view))
    due = datetime.fromisoformat(view["deadlines"]["resolve"]["due_at"]).timestamp()
    kind, code = view["owner"]["kind"], view["owner"]["code"]
    if view["state"] in ("resolved", "closed", "merged"):
        return
    if kind == "department":
        for dept in view["departments"]:
            await redis.zadd(keys.dept_queue(dept), {view["id"]: due})
    else:
        await redis.zadd(keys.hub_open(kind, code), {view["id"]: due})


async def put_timeline(
    redis: aioredis.Redis, keys: RedisKeys, matter_id: str, events: list[dict[str, Any]]
) -> None:
    for event in events:
        await redis.rpush(keys.timeline(matter_id), orjson.dumps(event))


def event(
    type_: str, before: str, after: str, version: int, user: str, role: str, **payload: Any
) -> dict[str, Any]:
    """An event dict in the event_to_dict shape."""
    return {
        "type": type_,
        "event_id": f"M:{version}:0",
        "matter_id": "M",
        "actor": {"user_id": user, "role": role, "scope_kind": "city", "scope_code": ""},
        "at": iso(T0 + timedelta(minutes=version)),
        "before_state": before,
        "after_state": after,
        "version": version,
        "owner": None,
        "command_id": "",
        "seq": 0,
        **payload,
    }


async def put_alert(redis: aioredis.Redis, keys: RedisKeys, alert: dict[str, Any]) -> None:
    await redis.zadd(
        keys.warnings(), {orjson.dumps(alert): datetime.fromisoformat(alert["due_at"]).timestamp()}
    )


def make_alert(
    alert_id: str,
    matter_id: str,
    level: str,
    *,
    kind: str = "resolve",
    township: str = "T01",
    village: str = "T01-V001",
    department: str | None = None,
    target: str = "owner",
) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "id": alert_id,
        "matter_id": matter_id,
        "level": level,
        "kind": kind,
        "target": target,
        "due_at": iso(T0),
        "fired_at": iso(T0),
        "township": township,
        "village": village,
    }
    if department:
        alert["department"] = department
    return alert

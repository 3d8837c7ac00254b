"""A realistic board for screenshots and browser tests: projections as streams/ writes them
(open matters, warnings, KPI counters) and trend counters, seeded into real Redis."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from gridhub.domain.hierarchy import City
from gridhub.keys import RedisKeys
from tests.wallboard.conftest import matter_view
from wallboard.feeder import LOCAL_TZ

TEXTS = [
    "小区供暖温度不达标，室内只有14度，老人孩子受冻",
    "路灯连续三晚不亮，夜间出行有安全隐患",
    "楼道堆放杂物堵塞消防通道，多次劝说无果",
    "邻里因宅基地边界发生纠纷，请求村委调解",
    "自来水管道破裂，街道积水结冰",
    "企业反映用电报装流程办理缓慢",
    "农田灌溉渠堵塞，影响春耕",
    "垃圾清运不及时，异味严重",
]


def warning_alert(view: dict[str, Any], level: str, rnd: random.Random) -> dict[str, Any]:
    """The AlertMessage streams/ raised for ``view``'s resolve deadline at ``level``: its
    ``due_at`` is when it fired (yellow before the deadline, red at it, escalations after)."""
    deadline = datetime.fromisoformat(view["deadlines"]["resolve"]["due_at"])
    fired = {
        "yellow": datetime.now(UTC) - timedelta(minutes=rnd.uniform(0, 20)),
        "red": deadline,
        "escalated": datetime.now(UTC) - timedelta(minutes=rnd.uniform(0, 10)),
    }[level]
    step = "escalate_1" if level == "escalated" else level
    alert: dict[str, Any] = {
        "id": f"{view['id']}:resolve:0:{step}",
        "matter_id": view["id"],
        "level": "escalate" if level == "escalated" else level,
        "kind": "resolve",
        "target": {"yellow": "owner", "red": "supervisor"}.get(level, "township_head"),
        "due_at": fired.isoformat(),
        "fired_at": fired.isoformat(),
        "township": view["township"],
        "village": view["village"],
    }
    if level == "escalated":
        alert["step"] = 1
    return alert


async def seed_board(redis: Any, keys: RedisKeys, city: City, n: int = 40) -> list[dict]:
    """Seed ``n`` open matters across the city with warnings, KPIs and trends."""
    rnd = random.Random(7)
    grids = sorted(city.grids)
    views = []
    for i in range(n):
        grid = rnd.choice(grids)
        level = rnd.choice(["none"] * 5 + ["yellow", "yellow", "red", "escalated"])
        due = (
            timedelta(hours=rnd.uniform(-6, 30))
            if level == "none"
            else (
                timedelta(minutes=rnd.uniform(20, 200))
                if level == "yellow"
                else timedelta(minutes=-rnd.uniform(10, 900))
            )
        )
        view = matter_view(
            f"M{i:04d}DEMO",
            grid,
            description=TEXTS[i % len(TEXTS)],
            level=level,
            departments=(rnd.choice(sorted(city.departments)),),
            due_in=due,
            state=rnd.choice(["accepted", "assigned", "signed_for", "in_progress"]),
        )
        view["category"] = rnd.choice(sorted(city.categories))
        view["updated_at"] = (datetime.now(UTC) - timedelta(minutes=i * 3)).isoformat()
        views.append(view)
        await redis.set(keys.matter(view["id"]), orjson.dumps(view))
        score = datetime.fromisoformat(view["deadlines"]["resolve"]["due_at"]).timestamp()
        for kind in ("village", "township"):
            await redis.zadd(keys.hub_open(kind, view[kind]), {view["id"]: score})
        for dept in view["departments"]:
            await redis.zadd(keys.dept_queue(dept), {view["id"]: score})
        if level != "none":
            alert = warning_alert(view, level, rnd)
            await redis.zadd(keys.warnings(), {orjson.dumps(alert): score})
    now = datetime.now(LOCAL_TZ)
    today = now.strftime("%Y%m%d")
    units = (
        [("city", city.code)]
        + [("township", t) for t in city.townships]
        + [("department", d) for d in city.departments]
        + [("village", v) for v in city.villages]
    )
    for dim, code in units:
        acc = rnd.randint(40, 160) if dim == "city" else rnd.randint(5, 60)
        done = int(acc * rnd.uniform(0.7, 0.99))
        await redis.hset(
            keys.kpi(dim, code, today),
            mapping={
                "accepted": acc,
                "resolved": done,
                "on_time": int(done * rnd.uniform(0.85, 1)),
                "rated": done // 2,
                "satisfied": int(done // 2 * 0.9),
                "basically_satisfied": 1,
            },
        )
    hub_keys = (
        ["city"]
        + [f"township:{t}" for t in city.townships]
        + [f"village:{v}" for v in city.villages]
        + [f"department:{d}" for d in city.departments]
    )
    for back in range(30):
        day = (now - timedelta(days=back)).strftime("%Y%m%d")
        mapping = {}
        for key in hub_keys:
            scale = 6 if key == "city" else 1
            for hour in range(24 if back else now.hour + 1):
                peak = 1 + (8 <= hour <= 18) * 3
                mapping[f"{key}|accepted|{hour:02d}"] = rnd.randint(0, 3 * peak) * scale
                mapping[f"{key}|resolved|{hour:02d}"] = rnd.randint(0, 3 * peak) * scale
        await redis.hset(keys.wallboard_hourly(day), mapping=mapping)
    return views

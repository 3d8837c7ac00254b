"""The monthly report for a seeded month, checked against hand-computed figures."""

from __future__ import annotations

import csv
import io

import pytest
import redis.asyncio as aioredis

from gridhub.keys import RedisKeys
from tests.dispatch.conftest import Call

pytestmark = pytest.mark.integration

SEED: dict[tuple[str, str, str], dict[str, int]] = {
    ("township", "T01", "20250303"): {
        "accepted": 10,
        "resolved": 2,
        "closed": 5,
        "on_time": 6,
        "overdue": 1,
        "rated": 5,
        "satisfied": 3,
        "basically_satisfied": 1,
        "not_satisfied": 1,
        "sign_for_seconds": 3600,
        "signed_count": 4,
        "resolve_seconds": 259200,
        "resolve_count": 6,
    },
    ("township", "T01", "20250315"): {
        "accepted": 2,
        "closed": 1,
        "on_time": 1,
        "rated": 1,
        "satisfied": 1,
    },
    ("township", "T01", "20250401"): {"accepted": 100},  # next month: must not count
    ("township", "T01", "20250228"): {"accepted": 100},  # previous month
    ("township", "T02", "20250310"): {
        "accepted": 4,
        "closed": 4,
        "on_time": 4,
        "rated": 2,
        "satisfied": 2,
    },
    ("department", "ZJJ", "20250305"): {"accepted": 5, "closed": 3, "on_time": 2},
    ("department", "GAJ", "20250306"): {"accepted": 5, "closed": 3, "on_time": 3},
    ("village", "T01-V001", "20250303"): {"accepted": 7, "closed": 7, "on_time": 7},
    ("category", "LIV-HEATING", "20250303"): {"accepted": 3, "resolved": 1},
    ("city", "990001", "20250303"): {
        "accepted": 16,
        "closed": 10,
        "resolved": 2,
        "on_time": 11,
        "rated": 8,
        "satisfied": 6,
        "basically_satisfied": 1,
    },
}


@pytest.fixture
async def month(redis_client: aioredis.Redis, keys: RedisKeys) -> None:
    for (dimension, code, day), counters in SEED.items():
        await redis_client.hset(keys.kpi(dimension, code, day), mapping=counters)  # type: ignore[arg-type]


async def test_township_rates_match_hand_computed_figures(call: Call, month: None) -> None:
    r = await call("leader", "GET", "/v1/reports/kpis?month=2025-03&dimension=township")
    assert r.status_code == 200, r.text
    rows = {row["code"]: row for row in r.json()["rows"]}
    t01 = rows["T01"]
    # T01: accepted 10+2; completed = resolved 2 + closed 6 = 8; on time 7; rated 6, of which
    # satisfied 4 + basically 1 = 5. Sign-for 3600 s / 4; resolve 259200 s / 6.
    assert (t01["accepted"], t01["completed"], t01["on_time"], t01["overdue"]) == (12, 8, 7, 1)
    assert t01["completion_rate"] == pytest.approx(8 / 12)
    assert t01["on_time_rate"] == pytest.approx(7 / 8)
    assert t01["satisfaction_rate"] == pytest.approx(5 / 6)
    assert t01["avg_sign_for_seconds"] == 900.0
    assert t01["avg_resolve_seconds"] == 43200.0
    t02 = rows["T02"]
    assert (t02["completion_rate"], t02["on_time_rate"], t02["satisfaction_rate"]) == (1, 1, 1)


async def test_other_dimensions_and_scoped_reading(call: Call, month: None) -> None:
    r = await call("leader", "GET", "/v1/reports/kpis?month=2025-03&dimension=department")
    rows = {row["code"]: row for row in r.json()["rows"]}
    assert rows["ZJJ"]["completion_rate"] == 0.6 and rows["GAJ"]["on_time_rate"] == 1.0
    assert rows["CGJ"]["completion_rate"] is None
    r = await call(
        "leader", "GET", "/v1/reports/kpis?month=2025-03&dimension=village&code=T01-V001"
    )
    assert [row["accepted"] for row in r.json()["rows"]] == [7]
    r = await call("leader", "GET", "/v1/reports/kpis?month=2025-03&dimension=category")
    assert {row["code"]: row["accepted"] for row in r.json()["rows"]}["LIV-HEATING"] == 3
    r = await call("township", "GET", "/v1/reports/kpis?month=2025-03&dimension=township")
    assert [row["code"] for row in r.json()["rows"]] == ["T01"]
    r = await call("dept", "GET", "/v1/reports/kpis?month=2025-03&dimension=department")
    assert [row["code"] for row in r.json()["rows"]] == ["ZJJ"]
    assert (
        await call("dept", "GET", "/v1/reports/kpis?month=2025-03&dimension=township")
    ).status_code == 403
    assert (await call("village", "GET", "/v1/reports/kpis?month=2025-03")).status_code == 403
    assert (await call("leader", "GET", "/v1/reports/kpis?month=2025-3")).status_code == 422


async def test_monthly_notice_ranks_and_renders(call: Call, month: None) -> None:
    r = await call("leader", "GET", "/v1/reports/notice?month=2025-03&format=json")
    body = r.json()
    assert [(t["code"], t["rank"]) for t in body["townships"]] == [("T02", 1), ("T01", 2)]
    assert [(d["code"], d["rank"]) for d in body["departments"]] == [
        ("GAJ", 1),
        ("ZJJ", 2),
        ("CGJ", None),
    ]
    assert body["city"]["completion_rate"] == pytest.approx(12 / 16)
    assert body["city"]["satisfaction_rate"] == pytest.approx(7 / 8)
    r = await call("leader", "GET", "/v1/reports/notice?month=2025-03&format=csv")
    assert r.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(r.text)))
    t01 = next(line for line in lines if line[3] == "T01")
    assert t01[:3] == ["2025-03", "township", "2"]
    assert t01[9:12] == ["66.67%", "87.50%", "83.33%"]
    r = await call("leader", "GET", "/v1/reports/notice?month=2025-03")
    assert r.headers["content-type"].startswith("text/html")
    assert "通报" in r.text and "<script" not in r.text and "66.67%" in r.text
    assert (await call("township", "GET", "/v1/reports/notice?month=2025-03")).status_code == 403

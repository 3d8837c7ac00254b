"""Slow and silent clients, one-click commands and their acks, the feeder's exactly-once
append, and the HTTP side (page, /healthz, /metrics) — real Kafka, Redis, websockets."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.wallboard.conftest import Screen, matter_delta, matter_view
from wallboard.app import Gateway
from wallboard.feeder import Feeder

pytestmark = pytest.mark.integration


@pytest.fixture
async def patient_gateway(gateway: Gateway, wb_settings, city):
    """A second gateway with production ping timeouts (a slow link still answers pings)."""
    settings = wb_settings.model_copy(
        update={"wallboard_ping_interval": 20.0, "wallboard_ping_timeout": 20.0}
    )
    gw = Gateway(settings, city, port=0, run_feeder=False)
    await gw.start()
    yield gw
    await gw.stop()


async def test_a_slow_client_gets_coalesced_latest_state(
    patient_gateway: Gateway, open_screen, token, publish
):
    gateway = patient_gateway
    fast = await open_screen(await token(), "city", gw=gateway)
    await fast.recv_type("snapshot")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a screen on a bad link
    sock.connect(("127.0.0.1", gateway.port))
    ws = await connect(f"ws://127.0.0.1:{gateway.port}/ws", sock=sock, max_queue=1)
    slow = Screen(ws)
    await slow.send({"type": "hello", "token": await token(), "hub": {"kind": "city"}})
    await slow.recv_type("snapshot")

    updates = 400
    text = "供热管道漏水，" * 400  # ~8 KB per delta: the slow link fills quickly
    for version in range(1, updates + 1):
        await publish(matter_delta(matter_view("M-HOT", version=version, description=text)))
    await publish(matter_delta(matter_view("M-OTHER", "T02-V001-G001")))

    async def drain(screen: Screen) -> tuple[int, int, int]:
        """Read until the latest state of both matters arrived: (frames, deltas, merged)."""
        frames, deltas, merged, versions, other = 0, 0, 0, [0], False
        while not (other and versions[-1] == updates):
            frame = await screen.recv(wait=15)
            if frame["type"] == "summary":
                continue
            frames += 1
            items = [frame] if frame["type"] == "delta" else frame["items"]
            ids = [i["delta"]["matter"]["id"] for i in items]
            assert len(ids) == len(set(ids)), "a batch never holds two states of one matter"
            merged += frame.get("coalesced", 0)
            deltas += len(items)
            other = other or "M-OTHER" in ids
            versions += [
                i["delta"]["matter"]["version"]
                for i in items
                if i["delta"]["matter"]["id"] == "M-HOT"
            ]
        assert versions == sorted(versions), "never an older state after a newer one"
        assert deltas + merged == updates + 1, "nothing lost: every delta sent or merged"
        return frames, deltas, merged

    fast_frames, _, _ = await drain(fast)
    slow_frames, _, slow_merged = await drain(slow)
    assert slow_merged > 0
    assert slow_frames < updates / 4, f"{slow_frames} frames for {updates} updates"
    assert slow_frames <= fast_frames, "a slow screen never gets more frames than a fast one"
    await slow.close()


async def test_a_client_that_stops_answering_pings_is_dropped(gateway: Gateway, open_screen, token):
    screen = await open_screen(await token(), "city")
    await screen.recv_type("snapshot")
    assert gateway.channels["city"].subscribers == 1
    screen.ws.transport.pause_reading()  # alive, connected, but never answers a ping
    try:
        for _ in range(100):
            await asyncio.sleep(0.1)
            if gateway.channels["city"].subscribers == 0:
                break
        assert gateway.channels["city"].subscribers == 0  # ping 1 s + timeout 1 s + close 2 s
    finally:
        screen.ws.transport.resume_reading()  # so the fixture can close it


async def test_one_click_command_ack_reaches_the_city(
    gateway: Gateway, open_screen, token, publish, redis_client
):
    city = await open_screen(await token(), "city")
    t01 = await open_screen(await token("township_hub", "T01", user="t01-chief"), "township", "T01")
    t02 = await open_screen(await token("township_hub", "T02"), "township", "T02")
    for screen in (city, t01, t02):
        await screen.recv_type("snapshot")
    command = {
        "kind": "command",
        "scope": {"township": "T01", "village": "", "grid": "", "departments": []},
        "at": "2026-01-01T00:00:00+00:00",
        "data": {
            "command_id": "C-1",
            "text": "立即排查供热管网",
            "issued_by": "op-1",
            "issued_at": "2026-01-01T00:00:00+00:00",
            "ack_due_at": "2026-01-01T00:10:00+00:00",
            "targets": [{"kind": "township", "code": "T01"}],
        },
    }
    await publish(command)
    assert (await city.deltas(1))[0][1]["kind"] == "command"
    assert (await t01.deltas(1))[0][1]["data"]["text"] == "立即排查供热管网"
    await t02.send({"type": "ack", "command_id": "C-1"})  # not a target
    refused = await t02.recv_type("ack_result")
    assert refused["ok"] is False

    await t01.send({"type": "ack", "command_id": "C-1"})  # dispatch is down: gateway fallback
    result = await t01.recv_type("ack_result")
    assert result == {
        "type": "ack_result",
        "command_id": "C-1",
        "ok": True,
        "via": "gateway",
        "error": None,
    }
    ack = (await city.deltas(1))[0][1]
    assert ack["kind"] == "command_ack"
    assert ack["data"]["target"] == {"kind": "township", "code": "T01"}
    assert ack["data"]["user"] == "t01-chief"
    assert (await t01.deltas(1))[0][1]["kind"] == "command_ack"
    assert await t02.quiet(0.5) == []

    gateway.board._cache.clear()
    late = await open_screen(await token(), "city")
    snap = await late.recv_type("snapshot")
    assert [c["command_id"] for c in snap["commands"]] == ["C-1"]
    assert set(snap["commands"][0]["acks"]) == {"township:T01"}


async def test_feeder_appends_each_delta_once_across_restarts_and_resends(
    wb_settings, wb_topics, city, publish, redis_client
):
    keys_stream = f"{wb_settings.redis_prefix}wb:stream"
    sent_id = await publish(matter_delta(matter_view("M-1")))
    await publish(matter_delta(matter_view("M-1", version=2)), id=sent_id)  # a re-send
    await publish(matter_delta(matter_view("M-2")))

    async def feed_once(group: str) -> None:
        feeder = Feeder(wb_settings, city, redis_client, group_id=group)
        task = asyncio.create_task(feeder.run())
        await asyncio.sleep(4)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    await feed_once(f"{wb_settings.topic_prefix}g1")
    assert await redis_client.xlen(keys_stream) == 2
    # a new group starts at the earliest offset (as after lost commits): Redis offsets win
    await feed_once(f"{wb_settings.topic_prefix}g2")
    assert await redis_client.xlen(keys_stream) == 2
    await publish(matter_delta(matter_view("M-3")))
    await feed_once(f"{wb_settings.topic_prefix}g3")
    entries = await redis_client.xrange(keys_stream)
    ids = [orjson.loads(f[b"d"])["matter"]["id"] for _, f in entries]
    assert sorted(ids) == ["M-1", "M-2", "M-3"]


async def test_http_page_health_and_metrics(gateway: Gateway, open_screen, token):
    screen = await open_screen(await token(), "city")
    await screen.recv_type("snapshot")
    base = f"http://127.0.0.1:{gateway.port}"
    async with httpx.AsyncClient(base_url=base) as http:
        page = await http.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe" not in csp
        assert (await http.get("/app.js")).status_code == 200
        vendor = await http.get("/vendor/echarts.min.js")
        assert vendor.status_code == 200, "run `npm install && npm run vendor` in wallboard/web"
        for bad in ("/../pyproject.toml", "/vendor/../../app.py", "/nope", "/app.py"):
            assert (await http.get(bad)).status_code == 404, bad
        health = (await http.get("/healthz")).json()
        assert health["status"] == "ok" and health["connections"] == 1
        metrics = (await http.get("/metrics")).text
        assert 'wallboard_connections{hub_kind="city"} 1.0' in metrics
        assert "wallboard_client_lag_seconds_bucket" in metrics


async def test_snapshot_is_scoped(gateway: Gateway, open_screen, token, redis_client) -> None:
    keys = gateway.keys
    for view in (matter_view("M-T1"), matter_view("M-T2", "T02-V001-G001", departments=())):
        await redis_client.set(keys.matter(view["id"]), orjson.dumps(view))
        await redis_client.zadd(keys.hub_open("township", view["township"]), {view["id"]: 1})
    await redis_client.zadd(
        keys.warnings(),
        {
            orjson.dumps(
                {
                    "id": "W",
                    "matter_id": "M-T2",
                    "level": "red",
                    "kind": "resolve",
                    "target": "T02",
                    "due_at": "x",
                    "fired_at": "x",
                    "township": "T02",
                    "village": "T02-V001",
                }
            ): 1
        },
    )
    screen = await open_screen(await token("township_hub", "T01"), "township", "T01")
    snap: dict[str, Any] = await screen.recv_type("snapshot")
    assert [m["id"] for m in snap["matters"]] == ["M-T1"]
    assert snap["warnings"] == []
    assert {u["code"] for u in snap["units"]} == {"T01-V001", "T01-V002"}
    with pytest.raises(ConnectionClosed):
        await screen.ws.close()
        await screen.recv(0.5)


async def test_summaries_are_computed_once_and_reach_every_gateway(
    gateway: Gateway, wb_settings, city, open_screen, token, publish
):
    """The feeder's process computes a hub's summary; every gateway passes the same frame on."""
    other = Gateway(wb_settings, city, port=0, run_feeder=False)
    await other.start()
    try:
        screens = [await open_screen(await token(), "city", gw=gw) for gw in (gateway, other)]
        for screen in screens:
            await screen.recv_type("snapshot")
        await publish(matter_delta(matter_view("M-SUM")))

        async def summary(screen: Screen) -> dict[str, Any]:
            while True:
                frame = await screen.recv(wait=10)
                if frame["type"] == "summary":
                    return frame

        first, second = [await summary(s) for s in screens]
        assert first == second
        assert {"kpis", "units", "ranking", "trend"} <= set(first)
    finally:
        await other.stop()

"""The gateway against real Kafka and Redis with real websockets clients: snapshot then
deltas, scope isolation, resume after missed updates, trimming, bad input."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from websockets.exceptions import ConnectionClosed

from gridhub.keys import RedisKeys
from tests.wallboard.conftest import matter_delta, matter_view
from wallboard.app import Gateway

pytestmark = pytest.mark.integration


async def seed_open(redis: Any, keys: RedisKeys, view: dict[str, Any]) -> None:
    """What streams/ projects for an open matter: its view and the open sets of its hubs."""
    await redis.set(keys.matter(view["id"]), orjson.dumps(view))
    await redis.zadd(keys.hub_open("village", view["village"]), {view["id"]: 1})
    await redis.zadd(keys.hub_open("township", view["township"]), {view["id"]: 1})
    for dept in view["departments"]:
        await redis.zadd(keys.dept_queue(dept), {view["id"]: 1})


async def test_snapshot_then_deltas(gateway: Gateway, open_screen, token, publish, redis_client):
    keys = gateway.keys
    await seed_open(redis_client, keys, matter_view("M-OLD", description="旧事项"))
    screen = await open_screen(await token(), "city")
    snap = await screen.recv_type("snapshot")
    assert snap["reason"] == "connect"
    assert [m["id"] for m in snap["matters"]] == ["M-OLD"]
    assert snap["kpis"]["open"] == 1
    assert snap["hub"]["name_zh"] == "测试市"
    assert {u["code"] for u in snap["units"]} == {"T01", "T02"}

    await publish(matter_delta(matter_view("M-NEW", version=1)))
    await publish(matter_delta(matter_view("M-NEW", version=2, state="assigned")))
    got = await screen.deltas(2)
    assert [(d["matter"]["id"], d["matter"]["version"]) for _, d in got] == [
        ("M-NEW", 1),
        ("M-NEW", 2),
    ]
    seqs = [s for s, _ in got]
    assert seqs == sorted(seqs) and seqs[0] != seqs[1]
    assert tuple(map(int, seqs[0].split("-"))) > tuple(map(int, snap["seq"].split("-")))


async def test_scope_isolation(gateway: Gateway, open_screen, token, publish):
    screens = {
        "city": await open_screen(await token(), "city"),
        "T01": await open_screen(await token("township_hub", "T01"), "township", "T01"),
        "T02": await open_screen(await token("township_hub", "T02"), "township", "T02"),
        "V1": await open_screen(await token("village_hub", "T01-V001"), "village", "T01-V001"),
        "V2": await open_screen(await token("township_hub", "T01"), "village", "T01-V002"),
        "ZJJ": await open_screen(await token("department", "ZJJ"), "department", "ZJJ"),
        "GAJ": await open_screen(await token("department", "GAJ"), "department", "GAJ"),
    }
    for screen in screens.values():
        await screen.recv_type("snapshot")
    await publish(matter_delta(matter_view("M-A", "T01-V001-G001", departments=("ZJJ",))))
    await publish(matter_delta(matter_view("M-B", "T02-V001-G001", departments=())))
    await publish(
        {
            "id": "W1",
            "matter_id": "M-C",
            "level": "red",
            "kind": "report_in",
            "target": "GAJ",
            "department": "GAJ",
            "due_at": "2030-01-01T00:00:00+00:00",
            "fired_at": "2030-01-01T00:00:00+00:00",
            "township": "T02",
            "village": "T02-V001",
        },
        topic="alerts",
    )
    expected = {
        "city": {"M-A", "M-B", "M-C"},
        "T01": {"M-A"},
        "T02": {"M-B", "M-C"},
        "V1": {"M-A"},
        "V2": set(),
        "ZJJ": {"M-A"},
        "GAJ": {"M-C"},
    }
    for name, screen in screens.items():
        seen = set()
        for frame in await screen.quiet(1.5):
            items = [frame] if frame["type"] == "delta" else frame.get("items", [])
            for item in items:
                delta = item["delta"]
                seen.add(
                    delta["matter"]["id"] if "matter" in delta else delta["alert"]["matter_id"]
                )
        assert seen == expected[name], name


@pytest.mark.parametrize(
    ("role", "scope", "kind", "code", "error"),
    [
        ("township_hub", "T01", "township", "T02", "forbidden"),
        ("township_hub", "T01", "city", "", "forbidden"),
        ("village_hub", "T01-V001", "township", "T01", "forbidden"),
        ("village_hub", "T01-V001", "village", "T01-V002", "forbidden"),
        ("department", "ZJJ", "department", "GAJ", "forbidden"),
        ("grid_worker", "T01-V001-G001", "village", "T01-V001", "forbidden"),
        ("intake", "", "city", "", "forbidden"),
        ("city_operator", "", "township", "T99", "unknown_hub"),
    ],
)
async def test_subscriptions_outside_the_token_scope_are_refused(
    gateway: Gateway, open_screen, token, role, scope, kind, code, error
):
    screen = await open_screen(await token(role, scope), kind, code)
    frame = await screen.recv()
    assert frame == {"type": "error", "code": error, "message": frame["message"]}
    with pytest.raises(ConnectionClosed) as closed:
        await screen.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_bad_token_and_bad_hello_close_1008(gateway: Gateway, open_screen, token):
    # a store holding no token at all (Redis lost its data): "try again", not "unknown"
    screen = await open_screen("ghk_not-a-real-token", "city")
    assert (await screen.recv())["code"] == "unavailable"
    with pytest.raises(ConnectionClosed) as closed:
        await screen.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    real = await token()
    screen = await open_screen("ghk_not-a-real-token", "city")
    assert (await screen.recv())["code"] == "unauthorized"
    with pytest.raises(ConnectionClosed):
        await screen.recv()
    screen = await open_screen(real, "city")  # then replace with garbage
    await screen.recv_type("snapshot")
    from websockets.asyncio.client import connect

    async with connect(f"ws://127.0.0.1:{gateway.port}/ws") as ws:
        await ws.send("{not json")
        assert orjson.loads(await ws.recv())["code"] == "bad_json"
        with pytest.raises(ConnectionClosed):
            await ws.recv()


async def test_malformed_frames_get_errors_and_hurt_nobody(
    gateway: Gateway, open_screen, token, publish
):
    bad = await open_screen(await token(), "city")
    good = await open_screen(await token(), "city")
    await bad.recv_type("snapshot")
    await good.recv_type("snapshot")
    for garbage in [
        "[]",
        "null",
        '{"type":"nope"}',
        '{"type":"ack"}',
        '{"type":"ack","command_id":"<x>"}',
        "\x00\xff",
        '{"type":"hello","token":"ghk_x","hub":{"kind":"city"}}',
        "9" * 20000,
    ]:
        await bad.send(garbage)
        frame = await bad.recv_type("error")
        assert frame["code"]
    await bad.send({"type": "pong"})
    await publish(matter_delta(matter_view("M-OK")))
    assert (await good.deltas(1))[0][1]["matter"]["id"] == "M-OK"
    assert (await bad.deltas(1))[0][1]["matter"]["id"] == "M-OK"  # still served


async def test_reconnect_gets_exactly_the_missed_deltas(
    gateway: Gateway, open_screen, token, publish
):
    raw = await token("township_hub", "T01")
    screen = await open_screen(raw, "township", "T01")
    await screen.recv_type("snapshot")
    await publish(matter_delta(matter_view("M-1")))
    ((last_seq, _),) = await screen.deltas(1)
    await screen.close()

    for n in range(2, 8):  # even ones are in T01, odd ones in T02
        grid = "T01-V002-G001" if n % 2 == 0 else "T02-V001-G001"
        await publish(matter_delta(matter_view(f"M-{n}", grid)))
    await asyncio.sleep(1.0)  # they are in the stream; nobody of T01 is watching

    again = await open_screen(raw, "township", "T01", last_seq=last_seq)
    frames = await again.quiet(1.0)
    assert all(f["type"] == "deltas" and f["replay"] for f in frames), frames
    replayed = [i["delta"]["matter"]["id"] for f in frames for i in f["items"]]
    seqs = [tuple(map(int, i["seq"].split("-"))) for f in frames for i in f["items"]]
    # exactly the missed ones of this hub (Kafka orders per partition, the stream totally)
    assert sorted(replayed) == ["M-2", "M-4", "M-6"]
    assert seqs == sorted(set(seqs)) and seqs[0] > tuple(map(int, last_seq.split("-")))
    await publish(matter_delta(matter_view("M-8", "T01-V001-G002")))
    assert [d["matter"]["id"] for _, d in await again.deltas(1)] == ["M-8"]
    assert await again.quiet(0.5) == []


async def test_reconnect_after_trim_gets_a_fresh_snapshot(
    gateway: Gateway, open_screen, token, publish, redis_client
):
    raw = await token()
    screen = await open_screen(raw)
    await screen.recv_type("snapshot")
    await publish(matter_delta(matter_view("M-1")))
    ((last_seq, _),) = await screen.deltas(1)
    await screen.close()
    for n in range(3):
        await publish(matter_delta(matter_view(f"M-T{n}")))
    await asyncio.sleep(1.0)
    await redis_client.xtrim(gateway.keys.wallboard_stream(), maxlen=1, approximate=False)
    again = await open_screen(raw, last_seq=last_seq)
    snap = await again.recv_type("snapshot")
    assert snap["reason"] == "trimmed"
    assert await again.quiet(0.5) == []


async def test_one_feeder_and_reconnect_across_gateways(
    gateway: Gateway, wb_settings, city, open_screen, token, publish, redis_client
):
    other = Gateway(wb_settings, city, port=0)
    await other.start()
    try:
        raw = await token()
        screen = await open_screen(raw, gw=other)
        await screen.recv_type("snapshot")
        await publish(matter_delta(matter_view("M-1")))
        ((last_seq, _),) = await screen.deltas(1)
        await screen.close()
        for n in range(2, 5):
            await publish(matter_delta(matter_view(f"M-{n}")))
        again = await open_screen(raw, last_seq=last_seq, gw=gateway)
        got = await again.deltas(3)
        assert sorted(d["matter"]["id"] for _, d in got) == ["M-2", "M-3", "M-4"]
        assert await again.quiet(0.5) == []
        assert [gateway.leader.leading, other.leader.leading].count(True) == 1  # type: ignore[union-attr]
        assert await redis_client.xlen(gateway.keys.wallboard_stream()) == 4
    finally:
        await other.stop()

"""Pure parts of the wallboard: the protocol parser, the coalescing fan-out and the scope
rules (checked against the domain's can_see)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridhub.auth import Principal
from gridhub.domain.hierarchy import City
from gridhub.domain.scopes import Scope, can_see
from tests.wallboard.conftest import matter_delta, matter_view
from wallboard.fanout import HubChannel, Item, batch_frame, coalesce
from wallboard.protocol import Ack, Hello, HubRef, Pong, ProtocolError, parse_client_frame
from wallboard.scope import hub_keys, may_subscribe


def item(n: int, delta: dict[str, Any]) -> Item:
    return Item.make(f"{n}-0", (n, 0), orjson.dumps(delta), delta)


def test_hello_ack_pong_parse() -> None:
    hello = parse_client_frame(
        '{"type":"hello","token":"ghk_x","hub":{"kind":"village","code":"T01-V001"},'
        '"last_seq":"17-3","lang":"en"}'
    )
    assert hello == Hello("ghk_x", HubRef("village", "T01-V001"), (17, 3), "en")
    assert parse_client_frame('{"type":"ack","command_id":"oc12"}') == Ack("oc12")
    assert parse_client_frame(b'{"type":"pong"}') == Pong()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{", "bad_json"),
        ("[1]", "bad_frame"),
        ('{"type":"hello","hub":{"kind":"city"}}', "bad_token"),
        ('{"type":"hello","token":"t","hub":{"kind":"planet","code":"x"}}', "bad_hub"),
        ('{"type":"hello","token":"t","hub":{"kind":"city","code":"x"}}', "bad_hub"),
        ('{"type":"hello","token":"t","hub":{"kind":"township","code":"<b>"}}', "bad_hub"),
        ('{"type":"hello","token":"t","hub":{"kind":"city"},"last_seq":"abc"}', "bad_seq"),
        ('{"type":"ack","command_id":"a b"}', "bad_command_id"),
        ('{"type":"shout"}', "unknown_type"),
        ("x" * 20000, "too_large"),
    ],
)
def test_bad_frames_are_refused_with_a_code(raw: str, code: str) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_client_frame(raw)
    assert err.value.code == code


@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_parser_never_raises_anything_but_protocol_error(raw: str | bytes) -> None:
    with contextlib.suppress(ProtocolError):
        parse_client_frame(raw)


def test_coalesce_keeps_latest_matter_state_and_every_alert() -> None:
    alert = {"kind": "alert", "scope": {}, "alert": {"id": "W1"}}
    items = [
        item(1, matter_delta(matter_view("A", version=1))),
        item(2, matter_delta(matter_view("B", version=1))),
        item(3, alert),
        item(4, matter_delta(matter_view("A", version=2))),
        item(5, alert | {"alert": {"id": "W2"}}),
        item(6, matter_delta(matter_view("A", version=3))),
    ]
    kept, merged = coalesce(items)
    assert [i.seq for i in kept] == ["2-0", "3-0", "5-0", "6-0"]
    assert merged == 2
    frame = orjson.loads(batch_frame([(i.seq, i.raw) for i in kept], seq="6-0", coalesced=2))
    assert frame["seq"] == "6-0" and frame["coalesced"] == 2 and frame["replay"] is False
    assert [i["delta"]["kind"] for i in frame["items"]] == ["matter", "alert", "alert", "matter"]


async def test_channel_ring_forgets_and_wakes() -> None:
    channel = HubChannel("city", capacity=3)
    waiter = asyncio.create_task(channel.wait(0))
    await asyncio.sleep(0)
    assert not waiter.done()
    for n in range(5):
        channel.append(item(n + 1, matter_delta(matter_view(f"M{n}"))))
    await asyncio.wait_for(waiter, 1)
    assert channel.since(0) is None  # fell off: the client needs a snapshot
    assert [i.seq for i in channel.since(3) or []] == ["4-0", "5-0"]
    assert channel.since(5) == [] and channel.lag(3) == 2
    summary = asyncio.create_task(channel.wait(5, channel.summary_version))
    await asyncio.sleep(0)
    channel.set_summary(b"{}")
    await asyncio.wait_for(summary, 1)


def principal(role: str, kind: str, code: str = "") -> Principal:
    return Principal("t", "u", role, kind, code)  # type: ignore[arg-type]


def test_subscription_rights(city: City) -> None:
    town, other = "T01", "T02"
    village = city.villages_of(town)[0]
    assert may_subscribe(principal("city_operator", "city"), HubRef("village", village), city)
    assert may_subscribe(
        principal("township_hub", "township", town), HubRef("township", town), city
    )
    assert may_subscribe(
        principal("township_hub", "township", town), HubRef("village", village), city
    )
    assert not may_subscribe(
        principal("township_hub", "township", town), HubRef("township", other), city
    )
    assert not may_subscribe(
        principal("village_hub", "village", village), HubRef("township", town), city
    )
    assert not may_subscribe(
        principal("department", "department", "ZJJ"), HubRef("department", "GAJ"), city
    )
    assert not may_subscribe(principal("intake", "city"), HubRef("city"), city)


def test_hub_keys_agree_with_the_domain_rule(city: City) -> None:
    """Every hub that hub_keys names may see the matter by can_see, and vice versa."""
    hubs = [Scope("city")] + [Scope("township", t) for t in city.townships]
    hubs += [Scope("village", v) for v in city.villages]
    hubs += [Scope("department", d) for d in city.departments]
    for grid in city.grids:
        for owner in (None, ("department", "GAJ"), ("township", "T02")):
            view = matter_view("M", grid, departments=("ZJJ",), owner=owner)
            keys = hub_keys(matter_delta(view), city)
            fields = {
                "grid": grid,
                "village": view["village"],
                "township": view["township"],
                "owner_kind": view["owner"]["kind"],
                "owner_code": view["owner"]["code"],
                "departments": view["departments"],
            }
            for scope in hubs:
                key = "city" if scope.kind == "city" else f"{scope.kind}:{scope.code}"
                assert (key in keys) == can_see(scope, fields, city), (grid, owner, key)

"""Hostile WebSocket input against a real gateway process: malformed frames and messages.

hypothesis generates what a broken or hostile client may send: random text and bytes,
JSON of the wrong shape, hellos with wrong types, oversized frames, floods of bad frames,
garbage after a valid hello; raw sockets send frames that break the WebSocket framing
itself. Meanwhile a well-behaved screen watches the city board while deltas are published.
The gateway process never dies, answers bad frames with an error frame or a close, and the
good screen keeps its one connection and receives every delta, in order.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import struct
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from websockets.asyncio.client import connect

from gridhub.settings import Settings
from tests.reliability.screens import Screen
from tests.support.system import System
from tests.wallboard.conftest import matter_delta, matter_view

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats()
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip
HELLOISH = st.fixed_dictionaries(
    {"type": st.sampled_from(["hello", "ack", "pong", "HELLO", "", "snapshot"])},
    optional={
        "token": JSONISH | st.text(max_size=300),
        "hub": JSONISH
        | st.fixed_dictionaries(
            {"kind": st.sampled_from(["city", "township", "village", "department", "x"]),
             "code": st.text(max_size=70)}
        ),
        "last_seq": JSONISH | st.from_regex(r"\A[0-9]{1,25}-[0-9]{1,25}\Z"),
        "command_id": JSONISH | st.text(max_size=200),
        "lang": JSONISH,
    },
)  # fmt: skip
FRAME = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    JSONISH.map(lambda v: orjson.dumps(v).decode()),
    HELLOISH.map(lambda v: orjson.dumps(v).decode()),
    st.integers(17_000, 70_000).map(lambda n: "x" * n),  # over the frame limits
)


async def exchange(url: str, frames: list[str | bytes], token: str | None) -> None:
    """One hostile client: optionally a valid hello first, then ``frames``; read what comes."""
    with contextlib.suppress(Exception):
        async with connect(url, open_timeout=5, close_timeout=0.5, max_size=None) as ws:
            if token:
                hello = {"type": "hello", "token": token, "hub": {"kind": "city", "code": ""}}
                await ws.send(orjson.dumps(hello).decode())
            for frame in frames:
                await ws.send(frame)
            with contextlib.suppress(TimeoutError):
                while True:
                    await asyncio.wait_for(ws.recv(), 0.15)


def raw_frames(port: int) -> None:
    """Break the framing itself: an unmasked frame, a reserved opcode, invalid UTF-8 in a text
    frame, a length field promising 2**62 bytes, and a half-sent frame."""
    key = base64.b64encode(os.urandom(16)).decode()
    handshake = (
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    mask = b"\x01\x02\x03\x04"
    bad = [
        b"\x81\x05hello",  # unmasked client frame
        b"\x83\x80" + mask,  # reserved opcode 3
        b"\x81\x82" + mask + bytes(a ^ b for a, b in zip(b"\xff\xfe", mask, strict=False)),
        b"\x81\xff" + struct.pack(">Q", 2**62) + mask,  # absurd length
        b"\x81\x8a" + mask + b"abc",  # truncated
    ]
    for frame in bad:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 5) as s:
            s.settimeout(2)
            s.sendall(handshake)
            s.recv(4096)
            s.sendall(frame)
            with contextlib.suppress(OSError):
                s.recv(4096)


@pytest.fixture
def gateway_system(settings: Settings, tmp_path):
    """One real gateway process (it runs the feeder) on the test's topics and keys."""
    with System(settings, tmp_path / "system") as system:
        system.create_topics()
        system.start("gateway0")
        yield system


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
async def test_malformed_ws_input_never_hurts(gateway_system: System) -> None:
    system = gateway_system
    await system.ready(["gateway0"])
    token = await system.token("city_operator")
    good = Screen(token)
    watching = asyncio.create_task(good.watch([system.url("gateway0", "ws")]))
    from kafka import KafkaProducer

    from gridhub.cloudevents import CloudEvent, encode

    producer = KafkaProducer(bootstrap_servers=system.settings.kafka_bootstrap, acks="all")
    published: list[str] = []

    def publish_one(n: int) -> None:
        view = matter_view(f"M-FZ{n:05d}", description=f"fuzz {n}")
        event = CloudEvent.new("wallboard.delta", 1, source="/fuzz", data=matter_delta(view),
                               subject=view["id"])  # fmt: skip
        record = encode(event)
        producer.send(system.topics.wallboard, key=record.key, value=record.value,
                      headers=record.headers)  # fmt: skip
        published.append(view["id"])

    loop = asyncio.get_running_loop()
    url = system.url("gateway0", "ws") + "/ws"
    counter = {"n": 0}

    @given(frames=st.lists(FRAME, min_size=1, max_size=10), with_hello=st.booleans())
    @hsettings(
        max_examples=60,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(frames: list[Any], with_hello: bool) -> None:
        counter["n"] += 1
        publish_one(counter["n"])
        future = asyncio.run_coroutine_threadsafe(
            exchange(url, frames, token if with_hello else None), loop
        )
        future.result(30)

    try:
        await asyncio.sleep(1.0)
        await asyncio.to_thread(fuzz)
        await asyncio.to_thread(raw_frames, system.ports["gateway0"])
        flood: list[str | bytes] = [
            orjson.dumps({"type": "nope"}).decode()
        ] * 50  # over the error budget
        await exchange(url, flood, token)
        await asyncio.to_thread(producer.flush, 30)
        for _ in range(100):
            if set(published) <= set(good.matters):
                break
            await asyncio.sleep(0.2)
        assert system.alive("gateway0"), system.log_text("gateway0")[-2000:]
        assert await system.healthy("gateway0")
        assert set(published) <= set(good.matters), len(set(published) - set(good.matters))
        assert len(good.connects) == 1 and good.repeated() == 0 and good.out_of_order() == 0
        assert "Traceback" not in system.log_text("gateway0")
    finally:
        watching.cancel()
        producer.close()

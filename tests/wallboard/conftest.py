"""Fixtures for the wallboard tests: real Kafka topics, real Redis, a real gateway on a free
port, real websockets clients, and the publisher of the gateway's real input (Delta
CloudEvents on ``wallboard.updates``, AlertMessages on ``alerts``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from websockets.asyncio.client import ClientConnection, connect

from gridhub.auth import issue_token
from gridhub.citydata import load_city
from gridhub.cloudevents import CloudEvent, encode
from gridhub.domain.hierarchy import City
from gridhub.kafka_admin import delete_topics_with_prefix, ensure_topics
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics
from tests.conftest import FAST_CITY
from wallboard.app import Gateway


@pytest.fixture(scope="session")
def city() -> City:
    return load_city(FAST_CITY)


@pytest.fixture
def wb_settings(settings: Settings) -> Settings:
    """Test settings with quick pings and a dispatch URL where nothing listens."""
    return settings.model_copy(
        update={
            "wallboard_ping_interval": 1.0,
            "wallboard_ping_timeout": 1.0,
            "dispatch_url": "http://127.0.0.1:9",
        }
    )


@pytest.fixture
def wb_topics(wb_settings: Settings) -> Any:
    topics = Topics.from_settings(wb_settings)
    ensure_topics(wb_settings, [topics.wallboard, topics.alerts], partitions=2)
    yield topics
    with contextlib.suppress(Exception):
        delete_topics_with_prefix(wb_settings, wb_settings.topic_prefix)


@pytest.fixture
async def gateway(wb_settings: Settings, wb_topics: Topics, city: City, redis_client: Any):
    gw = Gateway(wb_settings, city, port=0)
    await gw.start()
    await feeder_joined(gw)
    yield gw
    await gw.stop()


async def feeder_joined(gw: Gateway, within: float = 30.0) -> None:
    """Wait until the gateway's feeder owns its Kafka partitions: a delta published before
    is still read (the group starts at the earliest offset), but joining the group can take
    seconds on a loaded broker, longer than a test waits for one frame."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        leader = gw.leader
        consumer = leader.feeder.consumer if leader is not None and leader.leading else None
        if consumer is not None and consumer.assignment():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the gateway's feeder owned no partition within {within:.0f} s")


@pytest.fixture
async def producer(wb_settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    prod = AIOKafkaProducer(bootstrap_servers=wb_settings.kafka_bootstrap, acks="all")
    await prod.start()
    yield prod
    await prod.stop()


Publish = Callable[..., Awaitable[str]]


@pytest.fixture
def publish(producer: AIOKafkaProducer, wb_topics: Topics) -> Publish:
    """Publish a Delta (or an AlertMessage with ``topic="alerts"``) as a CloudEvent."""

    async def send(data: dict[str, Any], *, topic: str = "wallboard", id: str | None = None) -> str:
        name = "wallboard.delta" if topic == "wallboard" else "alert"
        subject = (data.get("matter") or {}).get("id") or data.get("matter_id")  # the key
        event = CloudEvent.new(name, 1, source="/tests", data=data, id=id, subject=subject)
        record = encode(event)
        target = wb_topics.wallboard if topic == "wallboard" else wb_topics.alerts
        await producer.send_and_wait(target, record.value, key=record.key, headers=record.headers)
        return event.id

    return send


@pytest.fixture
def token(redis_client: Any, wb_settings: Settings, city: City) -> Callable[..., Awaitable[str]]:
    keys = RedisKeys(wb_settings.redis_prefix)

    async def make(role: str = "city_operator", scope: str = "", user: str = "u1") -> str:
        raw, _ = await issue_token(redis_client, keys, city, user=user, role=role, scope_code=scope)
        return raw

    return make


def matter_view(
    mid: str,
    grid: str = "T01-V001-G001",
    *,
    version: int = 1,
    state: str = "accepted",
    departments: tuple[str, ...] = ("ZJJ",),
    description: str = "楼道灯坏了",
    level: str = "none",
    owner: tuple[str, str] | None = None,
    due_in: timedelta = timedelta(hours=5),
) -> dict[str, Any]:
    """A MatterView as streams/ projects it (gridhub.views.MatterView)."""
    village = grid.rsplit("-", 1)[0]
    township = village.split("-")[0]
    owner = owner or ("village", village)
    now = datetime.now(UTC)
    return {
        "id": mid,
        "source": "app",
        "category": "LIV-HEATING",
        "urgency": "normal",
        "grid": grid,
        "village": village,
        "township": township,
        "description": description,
        "attachments": [],
        "state": state,
        "owner": {"kind": owner[0], "code": owner[1]},
        "tier": owner[0],
        "departments": list(departments),
        "deadlines": {"resolve": {"due_at": (now + due_in).isoformat(), "level": level}},
        "warning_level": level,
        "supervised": False,
        "urge_count": 0,
        "accepted_at": now.isoformat(),
        "updated_at": now.isoformat(),
        "version": version,
    }


def matter_delta(view: dict[str, Any]) -> dict[str, Any]:
    """The Delta streams/ publishes for a changed matter."""
    return {
        "kind": "matter",
        "scope": {
            "township": view["township"],
            "village": view["village"],
            "grid": view["grid"],
            "departments": view["departments"],
        },
        "at": view["updated_at"],
        "matter": view,
    }


class Screen:
    """A real websockets client speaking the wallboard protocol."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seq: str | None = None

    async def recv(self, wait: float = 5.0) -> dict[str, Any]:
        frame = orjson.loads(await asyncio.wait_for(self.ws.recv(), wait))
        if frame.get("seq"):
            self.seq = frame["seq"]
        return frame

    async def recv_type(self, kind: str, wait: float = 5.0) -> dict[str, Any]:
        """The next frame of ``kind``, skipping summaries."""
        while True:
            frame = await self.recv(wait)
            if frame["type"] == kind:
                return frame
            if frame["type"] not in ("summary",):
                raise AssertionError(f"expected {kind}, got {frame}")

    async def deltas(self, count: int, wait: float = 5.0) -> list[tuple[str, dict[str, Any]]]:
        """Collect ``count`` deltas from delta/deltas frames."""
        out: list[tuple[str, dict[str, Any]]] = []
        while len(out) < count:
            frame = await self.recv(wait)
            if frame["type"] == "delta":
                out.append((frame["seq"], frame["delta"]))
            elif frame["type"] == "deltas":
                out.extend((i["seq"], i["delta"]) for i in frame["items"])
            elif frame["type"] != "summary":
                raise AssertionError(f"unexpected frame {frame}")
        return out

    async def quiet(self, seconds: float = 0.7) -> list[dict[str, Any]]:
        """Frames (other than summaries) that arrive within ``seconds``."""
        got = []
        with contextlib.suppress(TimeoutError):
            while True:
                frame = await self.recv(seconds)
                if frame["type"] != "summary" and frame.get("items") != []:
                    got.append(frame)
        return got

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else orjson.dumps(frame).decode())

    async def close(self) -> None:
        await self.ws.close()


@pytest.fixture
async def open_screen(gateway: Gateway) -> AsyncIterator[Callable[..., Awaitable[Screen]]]:
    screens: list[Screen] = []

    async def open_(
        token: str,
        kind: str = "city",
        code: str = "",
        last_seq: str | None = None,
        gw: Gateway | None = None,
        **kwargs: Any,
    ) -> Screen:
        port = (gw or gateway).port
        ws = await connect(f"ws://127.0.0.1:{port}/ws", **kwargs)
        screen = Screen(ws)
        screens.append(screen)
        await screen.send(
            {
                "type": "hello",
                "token": token,
                "hub": {"kind": kind, "code": code},
                "last_seq": last_seq,
            }
        )
        return screen

    yield open_
    for screen in screens:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await screen.close()
        screen.ws.transport.abort()  # a close that did not finish must not hang the run

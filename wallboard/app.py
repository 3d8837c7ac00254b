"""The wallboard gateway: a websockets (asyncio) server for the city hub and the 249 hubs.

    gateway = create_gateway(settings)        # or create_gateway(settings, run_feeder=False)
    await gateway.start()                      # listens on settings.host:wallboard_port
    ...
    await gateway.stop()

Each gateway process reads the shared Redis stream of deltas (fed from Kafka by one
:class:`~wallboard.feeder.Feeder`, see :mod:`wallboard.feeder`) and fans every delta out to
the channels of the hubs that may see it (:mod:`wallboard.scope`, :mod:`wallboard.fanout`):
at most one frame per hub per ``flush_interval``, written once for all its live screens.
Hub summaries come computed from the feeder's process (:mod:`wallboard.summaries`).
Several processes can run side by side: they share the sequence numbers, so a screen can
reconnect to any of them. HTTP on the same port serves the page, ``/healthz`` and
``/metrics``; ``/ws`` is the WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import redis.asyncio as aioredis
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from gridhub.citydata import load_city
from gridhub.domain.hierarchy import City
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from wallboard import metrics
from wallboard.acks import Acknowledger
from wallboard.fanout import HubChannel, Item
from wallboard.feeder import Feeder, FeederLeader, SummarizerLeader
from wallboard.http import PageConfig, StaticFiles, response
from wallboard.protocol import HubRef, dumps, format_seq, parse_seq
from wallboard.scope import hub_keys
from wallboard.session import Session
from wallboard.snapshot import BoardReader
from wallboard.summaries import (
    WATCH_SECONDS,
    Summarizer,
    decode_message,
    summaries_channel,
    watched_key,
)

log = logging.getLogger("wallboard")
FLUSH_INTERVAL = 0.02  # at most one frame per hub channel per 20 ms: sends scale with hubs
READ_COUNT = 1000
SEND_BUFFER = 64 * 1024  # kernel send buffer per client
WRITE_LIMIT = 64 * 1024  # websockets' own buffer before send() waits for the client


class Gateway:
    """One gateway process: the stream reader, the hub channels, the sessions, HTTP."""

    def __init__(
        self,
        settings: Settings,
        city: City,
        *,
        run_feeder: bool = True,
        feeder_standby: float = 0.0,
        port: int | None = None,
        channel_capacity: int = 10_000,
        flush_interval: float = FLUSH_INTERVAL,
    ) -> None:
        self.settings = settings
        self.city = city
        self.keys = RedisKeys(settings.redis_prefix)
        pool = aioredis.BlockingConnectionPool.from_url(
            str(settings.redis_url), max_connections=64, timeout=10
        )  # thousands of screens connecting at once wait for a connection, never fail
        self.redis: Any = aioredis.Redis(connection_pool=pool)
        self.run_feeder = run_feeder
        self.feeder_standby = feeder_standby
        self.port = settings.wallboard_port if port is None else port
        self.channel_capacity = channel_capacity
        self.flush_interval = flush_interval
        self.channels: dict[str, HubChannel] = {}
        self.position: tuple[int, int] = (0, 0)
        self.board = BoardReader(city, self.redis, self.keys, lambda: format_seq(self.position))
        self.acks = Acknowledger(settings, self.redis)
        self.static = StaticFiles(config=PageConfig.from_settings(settings))
        self.leader: FeederLeader | None = None
        self.server: Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._staged: set[str] = set()
        self._watch_now = asyncio.Event()
        self._hubs: dict[str, HubRef] = {}
        self.started_at = time.time()

    # --- channels -------------------------------------------------------------------------

    def join(self, hub: HubRef) -> HubChannel:
        """Subscribe a session to its hub's channel (created on first use)."""
        channel = self.channels.get(hub.key)
        if channel is None:
            channel = self.channels[hub.key] = HubChannel(
                hub.key, self.channel_capacity, buffer_limit=WRITE_LIMIT
            )
            self._hubs[hub.key] = hub
        channel.subscribers += 1
        if channel.subscribers == 1:
            self._watch_now.set()  # announce the hub to the summarizer now
        return channel

    def leave(self, hub: HubRef) -> None:
        """Unsubscribe; a channel nobody watches stops collecting deltas."""
        channel = self.channels.get(hub.key)
        if channel is not None:
            channel.subscribers -= 1

    def _dispatch(self, seq: str, raw: bytes) -> None:
        delta = orjson.loads(raw)
        item = Item.make(seq, parse_seq(seq) or (0, 0), raw, delta)
        for key in hub_keys(delta, self.city):
            channel = self.channels.get(key)
            if channel is not None and channel.subscribers > 0:
                channel.stage(item)
                self._staged.add(key)
        self.position = item.order
        metrics.DELTAS_READ.inc()

    def _gap(self, seq: str) -> None:
        """The stream was trimmed past this reader: every client must take a fresh snapshot."""
        log.warning("stream trimmed past the reader at %s; resyncing every client", seq)
        marker = Item.marker(seq, parse_seq(seq) or (0, 0))
        for channel in self.channels.values():
            if channel.subscribers > 0:
                channel.stage(marker)
                self._staged.add(channel.key)

    def _flush(self) -> None:
        """Send what the last read staged: one frame per hub channel to its live clients."""
        for key in self._staged:
            self.channels[key].flush()
        self._staged.clear()

    # --- the stream -----------------------------------------------------------------------

    async def _stream_info(self) -> dict[str, Any]:
        try:
            info: dict[str, Any] = await self.redis.xinfo_stream(self.keys.wallboard_stream())
        except aioredis.ResponseError:  # no stream yet
            return {}
        return info

    @staticmethod
    def _id(info: dict[str, Any], name: str) -> tuple[int, int]:
        value = info.get(name)
        if isinstance(value, bytes):
            value = value.decode()
        return parse_seq(value) or (0, 0)

    async def resumable(self, last_seq: tuple[int, int]) -> bool:
        """Whether every delta after ``last_seq`` is still in the stream (else: snapshot)."""
        info = await self._stream_info()
        last = self._id(info, "last-generated-id")
        deleted = self._id(info, "max-deleted-entry-id")  # XDEL
        first = self._id(info, "recorded-first-entry-id")  # XTRIM / MAXLEN move this on
        never_trimmed = info.get("entries-added", 0) == info.get("length", 0)
        in_stream = first <= last_seq or never_trimmed
        return in_stream and deleted <= last_seq <= max(last, self.position)

    async def replay(
        self, hub: HubRef, after: tuple[int, int], until: tuple[int, int], page: int
    ) -> AsyncIterator[list[tuple[str, bytes]]]:
        """The hub's deltas (seq, JSON) in ``(after, until]`` from the stream, by pages."""
        start = "(" + format_seq(after)
        end = format_seq(until)
        while True:
            entries = await self.redis.xrange(self.keys.wallboard_stream(), start, end, count=page)
            if not entries:
                return
            out = []
            for entry_id, fields in entries:
                if hub.key in hub_keys(orjson.loads(fields[b"d"]), self.city):
                    out.append((entry_id.decode(), fields[b"d"]))
            yield out
            if len(entries) < page:
                return
            start = "(" + entries[-1][0].decode()

    async def _read_loop(self) -> None:
        """Read the stream; after each read, flush the channels it touched. Reads are at least
        ``flush_interval`` apart, so under load each hub gets one frame per interval."""
        key = self.keys.wallboard_stream()
        reader: Any = aioredis.from_url(str(self.settings.redis_url))
        flushed_at = 0.0
        try:
            while True:
                wait = flushed_at + self.flush_interval - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                try:
                    answer = await reader.xread({key: format_seq(self.position)}, READ_COUNT, 1000)
                except (aioredis.ConnectionError, aioredis.TimeoutError) as exc:
                    log.warning("stream read failed: %r", exc)
                    await asyncio.sleep(0.5)
                    continue
                for _, entries in answer:
                    if len(entries) == READ_COUNT or self.position == (0, 0):
                        info = await self._stream_info()
                        if self._id(info, "max-deleted-entry-id") > self.position > (0, 0):
                            self._gap(entries[0][0].decode())
                    for entry_id, fields in entries:
                        self._dispatch(entry_id.decode(), fields[b"d"])
                self._flush()  # no await between the dispatch and the flush
                flushed_at = time.monotonic()
        finally:
            await reader.aclose()

    async def _watch_loop(self) -> None:
        """Tell the summarizer which hubs this gateway's screens watch (every few seconds)."""
        key = watched_key(self.settings)
        while True:
            self._watch_now.clear()
            hubs = {k: time.time() for k, c in self.channels.items() if c.subscribers > 0}
            if hubs:
                try:
                    await self.redis.zadd(key, hubs)
                except aioredis.RedisError as exc:
                    log.warning("announcing watched hubs failed: %r", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._watch_now.wait(), WATCH_SECONDS)

    async def _summary_loop(self) -> None:
        """Pass the summaries the summarizer publishes on to the hubs' screens: one frame per
        hub, computed once for every gateway (:mod:`wallboard.summaries`)."""
        while True:
            pubsub: Any = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(summaries_channel(self.settings))
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is None or message.get("type") != "message":
                        continue
                    key, frame = decode_message(message["data"])
                    channel = self.channels.get(key)
                    if channel is None or channel.subscribers <= 0 or frame == channel.summary:
                        continue  # nobody watches here, or unchanged: not sent again
                    channel.set_summary(frame)
            except (aioredis.ConnectionError, aioredis.TimeoutError) as exc:
                log.warning("summary subscription failed: %r", exc)
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    # --- HTTP and WebSocket ---------------------------------------------------------------

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == "/ws":
            return None
        if path == "/healthz":
            return await self._healthz()
        if path == "/metrics":
            return response(200, metrics.render(), "text/plain; version=0.0.4; charset=utf-8")
        return self.static.serve(request)

    async def _healthz(self) -> Response:
        try:
            redis_ok = bool(await asyncio.wait_for(self.redis.ping(), 1.0))
        except Exception:
            redis_ok = False
        body = {
            "status": "ok" if redis_ok else "degraded",
            "redis": redis_ok,
            "feeder_leader": bool(self.leader and self.leader.leading),
            "position": format_seq(self.position),
            "connections": sum(c.subscribers for c in self.channels.values()),
            "hubs": sum(1 for c in self.channels.values() if c.subscribers > 0),
            "uptime_s": round(time.time() - self.started_at, 1),
        }
        return response(200 if redis_ok else 503, dumps(body).encode(), "application/json")

    async def _handle(self, ws: ServerConnection) -> None:
        sock = ws.transport.get_extra_info("socket")
        if sock is not None:  # little kernel buffering: a slow screen is coalesced, not fed stale
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        await Session(self, ws).run()

    async def start(self) -> None:
        """Read the stream position, start the reader, the summaries, the feeder, the server."""
        newest = await self.redis.xrevrange(self.keys.wallboard_stream(), count=1)
        if newest:
            self.position = parse_seq(newest[0][0].decode()) or (0, 0)
        self._tasks.append(asyncio.create_task(self._read_loop()))
        self._tasks.append(asyncio.create_task(self._summary_loop()))
        self._tasks.append(asyncio.create_task(self._watch_loop()))
        if self.run_feeder:
            self.leader = FeederLeader(
                Feeder(self.settings, self.city, self.redis), standby_seconds=self.feeder_standby
            )
            self._tasks.append(asyncio.create_task(self.leader.run()))
            summaries = SummarizerLeader(
                Summarizer(self.settings, self.city, self.redis),
                standby_seconds=self.feeder_standby,
            )
            self._tasks.append(asyncio.create_task(summaries.run()))
        self.server = await serve(
            self._handle,
            self.settings.host,
            self.port,
            process_request=self._process_request,
            compression=None,
            ping_interval=self.settings.wallboard_ping_interval,
            ping_timeout=self.settings.wallboard_ping_timeout,
            close_timeout=2.0,
            max_size=64 * 1024,
            max_queue=32,
            write_limit=WRITE_LIMIT,
        )
        self.port = self.server.sockets[0].getsockname()[1]
        log.info("wallboard gateway on %s:%s", self.settings.host, self.port)

    async def stop(self) -> None:
        """Close every connection and task."""
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 5)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.acks.close()
        await self.redis.aclose()


def create_gateway(settings: Settings, **options: Any) -> Gateway:
    """Build a gateway for ``settings`` (the city comes from ``settings.city_file``)."""
    return Gateway(settings, load_city(settings.city_file), **options)

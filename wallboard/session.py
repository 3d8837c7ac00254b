"""One screen's connection: hello and auth, snapshot or replay, then live deltas.

The order of every step is what guarantees "no gap, no duplicate":

1. The session joins its hub's channel and notes the gateway's stream position ``D`` in the
   same synchronous step, so every delta after ``D`` will reach it through the channel.
2. A resume (``last_seq`` = ``L``, still in the stream) replays the hub's deltas in
   ``(L, D]``; otherwise a snapshot at position ``S`` is sent, followed by the replay of
   ``(S, D]`` when the (cached) snapshot is older than ``D``.
3. Items from the channel are sent only when newer than the last position sent. Once the
   session is level with its channel it goes *live*: the channel writes every later frame to
   it directly (:mod:`wallboard.fanout`), and its sender sleeps until it is demoted (its
   socket fell behind, or the channel needs a resync), when it catches up again from the
   channel's ring with coalesced batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

import orjson
from redis.exceptions import RedisError
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from gridhub.auth import Principal, verify_token
from wallboard import metrics
from wallboard.fanout import HubChannel, batch_frame, coalesce
from wallboard.protocol import (
    Ack,
    Hello,
    HubRef,
    ProtocolError,
    dumps,
    error_frame,
    format_seq,
    parse_client_frame,
    parse_seq,
)
from wallboard.scope import hub_exists, may_subscribe

if TYPE_CHECKING:
    from wallboard.app import Gateway

log = logging.getLogger("wallboard.session")
HELLO_TIMEOUT = 10.0
MAX_ERRORS = 20
BATCH = 1000
POLICY_VIOLATION = 1008


class Session:
    """The state of one connected screen."""

    def __init__(self, gateway: Gateway, ws: ServerConnection) -> None:
        self.gateway = gateway
        self.ws = ws
        self.hub: HubRef | None = None
        self.principal: Principal | None = None
        self.token = ""
        self.channel: HubChannel | None = None
        self.cursor = 0
        self.last_sent: tuple[int, int] = (0, 0)
        self.summary_version = 0
        self.errors = 0
        self._demoted = asyncio.Event()
        self._closing: asyncio.Future[None] | None = None

    async def run(self) -> None:
        """Serve the connection until it closes (the receiver runs in this task)."""
        hello = await self._hello()
        if hello is None:
            return
        assert self.hub is not None
        channel = self.gateway.join(self.hub)
        self.channel = channel
        metrics.CONNECTIONS.labels(self.hub.kind).inc()
        sender = asyncio.create_task(self._send_loop(hello.last_seq))
        sender.add_done_callback(self._sender_done)
        try:
            with contextlib.suppress(ConnectionClosed):
                await self._receive_loop()
        finally:
            channel.drop(self)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
            metrics.CONNECTIONS.labels(self.hub.kind).dec()
            self.gateway.leave(self.hub)

    def _sender_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None or isinstance(exc, ConnectionClosed):
            return
        hub = self.hub.key if self.hub else "?"
        if isinstance(exc, RedisError):  # the screen reconnects and tries again
            log.warning("session for %s: Redis failed: %r", hub, exc)
            self._closing = asyncio.ensure_future(self.ws.close(1013, "try again later"))
        else:
            log.error("session for %s failed: %r", hub, exc)
            self._closing = asyncio.ensure_future(self.ws.close(1011, "internal error"))

    def demote(self, cursor: int, summary_version: int) -> None:
        """Called by the channel: this client fell behind; catch up from ``cursor``."""
        self.cursor = cursor
        self.summary_version = summary_version
        self._demoted.set()

    async def _refuse(self, code: str, message: str) -> None:
        metrics.CONNECTS.labels(code).inc()
        peer = self.ws.remote_address[0] if self.ws.remote_address else "?"
        log.warning("refused a screen from %s: %s (%s)", peer, code, message)
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(error_frame(code, message))
            await self.ws.close(POLICY_VIOLATION, message[:100])

    async def _hello(self) -> Hello | None:
        """Read and check the hello frame; refuse (close 1008) on anything but a valid one."""
        try:
            raw = await asyncio.wait_for(self.ws.recv(), HELLO_TIMEOUT)
        except (TimeoutError, ConnectionClosed):
            await self._refuse("no_hello", "send a hello frame first")
            return None
        try:
            message = parse_client_frame(raw)
        except ProtocolError as exc:
            await self._refuse(exc.code, str(exc))
            return None
        if not isinstance(message, Hello):
            await self._refuse("no_hello", "the first frame must be a hello")
            return None
        try:
            principal = await verify_token(self.gateway.redis, self.gateway.keys, message.token)
        except RedisError as exc:
            log.warning("token check failed: %r", exc)
            metrics.CONNECTS.labels("unavailable").inc()
            with contextlib.suppress(ConnectionClosed):
                await self.ws.send(error_frame("unavailable", "try again shortly"))
                await self.ws.close(1013, "try again later")
            return None
        if principal is None:
            await self._refuse("unauthorized", "unknown, revoked or expired token")
            return None
        if not hub_exists(message.hub, self.gateway.city):
            await self._refuse("unknown_hub", "no such hub in this city")
            return None
        if not may_subscribe(principal, message.hub, self.gateway.city):
            await self._refuse("forbidden", "this token may not watch that hub")
            return None
        self.hub, self.principal, self.token = message.hub, principal, message.token
        metrics.CONNECTS.labels("ok").inc()
        return message

    async def _send(self, frame: bytes | str, kind: str) -> None:
        if isinstance(frame, bytes):
            await self.ws.send(frame, text=True)
        else:
            await self.ws.send(frame)
        metrics.FRAMES_SENT.labels(kind).inc()

    async def _start(self, last_seq: tuple[int, int] | None) -> None:
        """Step 1 and 2 of the module doc: join at position D, then resume or snapshot."""
        assert self.channel is not None and self.hub is not None
        self.cursor = self.channel.flushed  # no await between these two lines
        position = self.gateway.position
        if last_seq is not None and await self.gateway.resumable(last_seq):
            self.last_sent = last_seq
            await self._replay(last_seq, position)
            return
        reason = "connect" if last_seq is None else "trimmed"
        await self._snapshot(position, reason)

    async def _snapshot(self, position: tuple[int, int], reason: str) -> None:
        assert self.hub is not None and self.channel is not None
        state = await self.gateway.board.state(self.hub)
        seq = parse_seq(state["seq"]) or (0, 0)
        self.summary_version = self.channel.summary_version
        frame: dict[str, Any] = {"type": "snapshot", "reason": reason, **state}
        frame["principal"] = (
            {"user": self.principal.user, "role": self.principal.role} if self.principal else None
        )
        await self._send(dumps(frame), "snapshot")
        if reason != "connect":
            metrics.RESYNCS.labels(reason).inc()
        self.last_sent = seq
        if seq < position:
            await self._replay(seq, position)

    async def _replay(self, after: tuple[int, int], until: tuple[int, int]) -> None:
        """Send the hub's deltas in ``(after, until]`` from the stream, in pages."""
        assert self.hub is not None
        if until <= after:
            return
        sent_until = after
        async for items in self.gateway.replay(self.hub, after, until, BATCH):
            if items:
                await self._send(batch_frame(items, seq=items[-1][0], replay=True), "deltas")
                metrics.DELTAS_SENT.inc(len(items))
                sent_until = parse_seq(items[-1][0]) or sent_until
        if sent_until < until:  # nothing more for this hub: still move the client on
            await self._send(batch_frame([], seq=format_seq(until), replay=True), "deltas")
        self.last_sent = max(self.last_sent, until)

    async def _send_loop(self, last_seq: tuple[int, int] | None) -> None:
        """Everything the server sends after hello, in order: snapshot or replay, catching up
        from the channel, then live (the channel writes; this task sleeps until demoted)."""
        assert self.channel is not None
        await self._start(last_seq)
        channel = self.channel
        while True:
            if self.summary_version != channel.summary_version and channel.summary is not None:
                self.summary_version = channel.summary_version
                await self._send(channel.summary, "summary")
            items = channel.since(self.cursor)
            if items is None or any(i.delta is None for i in items or ()):
                await self._resync("lagging" if items is None else "gap")
                continue
            if not items:
                if self.summary_version != channel.summary_version:
                    continue
                # level with the channel (no await since since()): go live until demoted
                self._demoted.clear()
                channel.join_live(self)
                await self._demoted.wait()
                continue
            self.cursor += len(items)
            metrics.CLIENT_BACKLOG.observe(len(items))
            items = [i for i in items if i.order > self.last_sent]
            if not items:
                continue
            if len(items) == 1:
                await self._send(items[0].frame, "delta")
                metrics.DELTAS_SENT.inc()
            else:
                kept, merged = coalesce(items)
                for start in range(0, len(kept), BATCH):
                    page = kept[start : start + BATCH]
                    seq = items[-1].seq if start + BATCH >= len(kept) else page[-1].seq
                    frame = batch_frame([(i.seq, i.raw) for i in page], seq=seq, coalesced=merged)
                    await self._send(frame, "deltas")
                metrics.DELTAS_SENT.inc(len(kept))
                metrics.DELTAS_COALESCED.inc(merged)
            self.last_sent = items[-1].order
            metrics.CLIENT_LAG_SECONDS.observe(max(0.0, time.time() - items[-1].order[0] / 1000))

    async def _resync(self, reason: str) -> None:
        assert self.channel is not None
        self.cursor = self.channel.flushed
        await self._snapshot(self.gateway.position, reason)

    async def _receive_loop(self) -> None:
        """Handle acks and heartbeats; answer bad frames with an error, never crash."""
        async for raw in self.ws:
            try:
                message = parse_client_frame(raw)
                if isinstance(message, Hello):
                    raise ProtocolError("duplicate_hello", "already subscribed; reconnect instead")
            except ProtocolError as exc:
                self.errors += 1
                metrics.CLIENT_ERRORS.labels(exc.code).inc()
                if self.errors > MAX_ERRORS:
                    await self.ws.close(POLICY_VIOLATION, "too many bad frames")
                    return
                await self.ws.send(error_frame(exc.code, str(exc)))
                continue
            if isinstance(message, Ack):
                await self._ack(message.command_id)

    async def _ack(self, command_id: str) -> None:
        assert self.principal is not None and self.hub is not None
        try:
            outcome = await self.gateway.acks.acknowledge(
                self.principal, self.token, self.hub, command_id
            )
        except Exception as exc:  # Kafka or Redis trouble: tell the screen, keep the session
            log.warning("ack of %s failed: %r", command_id, exc)
            await self.ws.send(error_frame("ack_failed", "the acknowledgement could not be sent"))
            return
        metrics.ACKS.labels(outcome.via).inc()
        await self.ws.send(
            orjson.dumps(
                {
                    "type": "ack_result",
                    "command_id": command_id,
                    "ok": outcome.ok,
                    "via": outcome.via,
                    "error": outcome.error,
                }
            ).decode()
        )

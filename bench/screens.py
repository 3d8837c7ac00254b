"""The screens of the wallboard benchmark, in processes of their own (the child side).

    clients = Clients(4)                            # spawned processes, driven over pipes
    await clients.connect([port], token, hubs)      # real websockets clients, hello → snapshot
    await clients.settle(0.3, 8.0)                  # until no delivery came for 0.3 s
    matters, deltas = await clients.collect()       # per matter: first/last arrival, screens

Each screen records, for every matter, when its first delta reached it; a process keeps per
matter the first and last of those and how many screens had it, and the first delta itself
(so the caller can compute who should have had it). ``raw_server_process`` is the bare
``websockets.broadcast`` server of the physical-limit baseline. This module imports only
what the children need, so that spawning them is quick.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

Hub = tuple[str, str]  # (kind, code): ("city", ""), ("township", "T01")...


class Screens:
    """The screens of one client process: real websockets clients that record, for every
    matter, when its first delta reached each screen (the first, the last, how many)."""

    def __init__(self) -> None:
        self.clients: list[ClientConnection] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.frames = 0
        self.deliveries = 0
        self.watched: set[str] = set()  # matters the caller waits for
        self._reset()

    def _reset(self) -> None:
        self.matters: dict[str, list[float]] = {}  # id → [first, last, screens, stream at]
        self.deltas: dict[str, dict[str, Any]] = {}  # id → its first delta (for the audience)

    async def open(self, port: int, token: str, hub: Hub) -> None:
        for attempt in range(6):  # a screen retries a refused connect, as the page does
            try:
                return await self._open(port, token, hub)
            except (OSError, AssertionError, ConnectionClosed, TimeoutError):
                if attempt == 5:
                    raise
                await asyncio.sleep(0.5 * 2**attempt)

    async def _open(self, port: int, token: str, hub: Hub) -> None:
        ws = await connect(
            f"ws://127.0.0.1:{port}/ws",
            compression=None,
            open_timeout=120,
            ping_interval=None,
            max_size=None,
            max_queue=None,
        )
        hello = {"type": "hello", "token": token, "hub": {"kind": hub[0], "code": hub[1]}}
        await ws.send(orjson.dumps(hello).decode())
        try:
            first = orjson.loads(await ws.recv(decode=False))
            assert first["type"] == "snapshot", first
        except BaseException:
            await ws.close()
            raise
        self.clients.append(ws)
        self.tasks.append(asyncio.create_task(self._read(ws)))

    async def _read(self, ws: ClientConnection) -> None:
        seen: set[str] = set()  # matters this screen has had
        with contextlib.suppress(Exception):
            while True:
                raw = await ws.recv(decode=False)
                now = time.time()
                self.frames += 1
                if not raw.startswith(b'{"type":"delta'):  # delta or deltas; not summaries
                    continue
                frame = orjson.loads(raw)
                if frame["type"] == "delta":
                    items = [(frame["seq"], frame["delta"])]
                else:
                    items = [(i["seq"], i["delta"]) for i in frame["items"]]
                for seq, delta in items:
                    matter = delta.get("matter")
                    if not isinstance(matter, dict) or matter.get("id") in seen:
                        continue
                    mid = matter["id"]
                    seen.add(mid)
                    self.deliveries += 1
                    agg = self.matters.get(mid)
                    if agg is None:
                        self.matters[mid] = [now, now, 1, int(seq.split("-")[0]) / 1000]
                        self.deltas[mid] = delta
                    else:
                        agg[0] = min(agg[0], now)
                        agg[1] = max(agg[1], now)
                        agg[2] += 1

    async def open_all(self, ports: list[int], token: str, hubs: list[tuple[int, Hub]]) -> None:
        gate = asyncio.Semaphore(50)

        async def one(index: int, hub: Hub) -> None:
            async with gate:
                await self.open(ports[index % len(ports)], token, hub)

        await asyncio.gather(*(one(i, h) for i, h in hubs))

    async def close_all(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.gather(*(ws.close() for ws in self.clients), return_exceptions=True)
        self.clients.clear()
        self.tasks.clear()

    def collect(self) -> dict[str, Any]:
        out = {"matters": self.matters, "deltas": self.deltas}
        self._reset()
        return out


async def _client_main(pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    screens = Screens()
    while True:
        command, args = await loop.run_in_executor(None, pipe.recv)
        if command == "connect":
            await screens.open_all(*args)
            pipe.send(len(screens.clients))
        elif command == "stats":
            seen = sum(1 for mid in screens.watched if mid in screens.matters)
            pipe.send((screens.deliveries, screens.frames, time.process_time(), seen))
        elif command == "watch":
            screens.watched = set(args)
            pipe.send(0)
        elif command == "collect":
            pipe.send(screens.collect())
        elif command == "disconnect":
            await screens.close_all()
            pipe.send(0)
        else:
            pipe.send(0)
            return


def _client_process(pipe: Connection) -> None:
    asyncio.run(_client_main(pipe))


class Clients:
    """The client processes, driven over pipes."""

    def __init__(self, count: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs = []
        for _ in range(count):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_client_process, args=(theirs,), daemon=True)
            proc.start()
            self.pipes.append(mine)
            self.procs.append(proc)

    async def ask(self, command: str, per_process: Sequence[Any] | None = None) -> list[Any]:
        loop = asyncio.get_running_loop()
        for n, pipe in enumerate(self.pipes):
            pipe.send((command, per_process[n] if per_process is not None else None))
        return list(await asyncio.gather(*(loop.run_in_executor(None, p.recv) for p in self.pipes)))

    async def connect(self, ports: list[int], token: str, hubs: list[Hub]) -> int:
        shares: list[list[tuple[int, Hub]]] = [[] for _ in self.pipes]
        for index, hub in enumerate(hubs):
            shares[index % len(shares)].append((index, hub))
        return sum(await self.ask("connect", [(ports, token, share) for share in shares]))

    async def stats(self) -> tuple[int, int, float]:
        """(deliveries, frames, CPU seconds) of all client processes so far."""
        parts = await self.ask("stats")
        return sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts)

    async def settle(self, quiet: float, longest: float, matters: Sequence[str] = ()) -> None:
        """Wait until a screen has had each of ``matters`` (every process holds city screens,
        which see every matter), then until no delivery came for ``quiet`` seconds; at most
        ``longest`` seconds in all."""
        deadline = time.monotonic() + longest
        await self.ask("watch", [list(matters)] * len(self.pipes))
        while matters and time.monotonic() < deadline:
            if max(p[3] for p in await self.ask("stats")) >= len(matters):
                break
            await asyncio.sleep(0.1)
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            now_count = (await self.stats())[0]
            if now_count != last:
                last, since = now_count, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            await asyncio.sleep(0.1)

    async def collect(self) -> tuple[dict[str, list[float]], dict[str, dict[str, Any]]]:
        """Per matter [first, last, screens, stream at] over all processes, and its delta."""
        matters: dict[str, list[float]] = {}
        deltas: dict[str, dict[str, Any]] = {}
        for part in await self.ask("collect"):
            deltas.update(part["deltas"])
            for mid, (first, last, count, stream) in part["matters"].items():
                seen = matters.get(mid)
                if seen is None:
                    matters[mid] = [first, last, count, stream]
                else:
                    seen[0] = min(seen[0], first)
                    seen[1] = max(seen[1], last)
                    seen[2] += count
        return matters, deltas

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ask("exit"), 30)
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()


async def _raw_server_main(pipe: Connection, port: int) -> None:
    """A bare websockets server: answers a hello with a snapshot, then only broadcasts."""
    loop = asyncio.get_running_loop()
    connections: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send('{"type":"snapshot","seq":"0-0"}')
        connections.add(ws)
        try:
            await ws.wait_closed()
        finally:
            connections.discard(ws)

    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None):
        pipe.send("ready")
        while True:
            command, args = await loop.run_in_executor(None, pipe.recv)
            if command != "broadcast":
                pipe.send(0)
                return
            count, gap = args
            sent: dict[str, float] = {}
            costs = []
            for n in range(count):
                mid = f"RAW{n}"
                matter = {"id": mid, "text": "x" * 1000}
                delta = {"kind": "matter", "matter": matter}
                frame = {"type": "delta", "seq": "0-0", "delta": delta}
                sent[mid] = time.time()
                started = time.process_time()  # CPU: preemption on a busy machine excluded
                broadcast(connections, orjson.dumps(frame), text=True)
                costs.append(time.process_time() - started)
                await asyncio.sleep(gap)
            pipe.send((len(connections), sent, costs))


def raw_server_process(pipe: Connection, port: int) -> None:
    asyncio.run(_raw_server_main(pipe, port))

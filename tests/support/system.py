"""The whole gridhub system as real processes, on the Kafka and Redis a test gives it.

    with System(settings, tmp_path, gateways=2) as system:   # free ports, logs in tmp_path
        system.start_all()                                   # intake, streams, dispatch, gateways
        await system.ready()                                 # every /healthz answers 200
        system.kill("streams")                               # SIGKILL its process group
        system.start("streams")                              # same env, same data dir
        token = await system.token("intake")                 # durable, like `gridhub token issue`
        system.url("intake")                                 # http://127.0.0.1:<port>

Processes are ``python -m connectors``, ``python -m streams worker``, ``python -m dispatch``
and one ``python -m wallboard`` per gateway (``gateway0``, ``gateway1``...; every gateway
campaigns for the feeder lock; ``gateway_args=("gateway", "--no-feeder")`` with
``start("feeder")`` and ``start("summarizer")`` splits them as scripts/services.sh does).
Each runs in its own session so a kill takes its children.
Pair it with tests/support/private_kafka.py and private_redis.py for fault tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx
import redis.asyncio as aioredis

from gridhub.auth import issue_token, revoke_token
from gridhub.citydata import load_city
from gridhub.kafka_admin import all_topics, ensure_topics
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.token_log import TokenLog
from gridhub.topics import Topics
from tests.support.uvicorn_thread import free_port

ROOT = Path(__file__).resolve().parents[2]
MODULES = {
    "intake": ["connectors"],
    "streams": ["streams", "worker"],
    "dispatch": ["dispatch"],
    "feeder": ["wallboard", "feeder", "--no-summaries"],  # no port: not in ready()
    "summarizer": ["wallboard", "summarizer"],  # no port: not in ready()
}


class System:
    """Starts, kills and restarts gridhub's processes for one test (see the module doc)."""

    def __init__(
        self,
        settings: Settings,
        workdir: Path,
        *,
        gateways: int = 1,
        gateway_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.keys = RedisKeys(settings.redis_prefix)
        self.topics = Topics.from_settings(settings)
        self.city = load_city(settings.city_file)
        self.gateway_names = [f"gateway{i}" for i in range(gateways)]
        self.gateway_args = gateway_args
        self.ports = {name: free_port() for name in ("intake", "dispatch", "streams")}
        self.ports.update({name: free_port() for name in self.gateway_names})
        self.extra_env = dict(env or {})
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    # --- environment ------------------------------------------------------------------------

    def env(self, name: str) -> dict[str, str]:
        """The environment of process ``name``: the test's settings as GRIDHUB_* variables."""
        s = self.settings
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "GRIDHUB_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
            "GRIDHUB_REDIS_URL": str(s.redis_url),
            "GRIDHUB_TOPIC_PREFIX": s.topic_prefix,
            "GRIDHUB_REDIS_PREFIX": s.redis_prefix,
            "GRIDHUB_CITY_FILE": str(s.city_file),
            "GRIDHUB_TOPIC_PARTITIONS": str(s.topic_partitions),
            "GRIDHUB_INTAKE_PORT": str(self.ports["intake"]),
            "GRIDHUB_DISPATCH_PORT": str(self.ports["dispatch"]),
            "GRIDHUB_STREAMS_PORT": str(self.ports["streams"]),
            "GRIDHUB_DISPATCH_URL": self.url("dispatch"),
            "GRIDHUB_STREAMS_DATA_DIR": str(self.workdir / "streams-data"),
            "GRIDHUB_STREAMS_BATCH_SECONDS": "0.02",
            "GRIDHUB_WALLBOARD_PING_INTERVAL": "2",
            "GRIDHUB_WALLBOARD_PING_TIMEOUT": "4",
            "GRIDHUB_LOG_LEVEL": "INFO",
            "GRIDHUB_INTAKE_RATE_LIMIT": "1000000",  # load tests are one client; 429 is opt-in
            **self.extra_env,
        }
        if name in self.ports and name.startswith("gateway"):
            env["GRIDHUB_WALLBOARD_PORT"] = str(self.ports[name])
        return env

    def url(self, name: str, scheme: str = "http") -> str:
        """Base URL of a process (``ws`` scheme for a gateway's WebSocket)."""
        return f"{scheme}://127.0.0.1:{self.ports[name]}"

    def log(self, name: str) -> Path:
        """The log file of process ``name`` (appended to across restarts)."""
        return self.workdir / f"{name}.log"

    def log_text(self, name: str) -> str:
        """Everything process ``name`` has logged so far."""
        path = self.log(name)
        return path.read_text(errors="replace") if path.exists() else ""

    # --- processes --------------------------------------------------------------------------

    def create_topics(self) -> None:
        """Every topic of the system, created up front (never by auto-create)."""
        ensure_topics(self.settings, all_topics(self.topics, self.city))

    def start(self, name: str) -> subprocess.Popen[bytes]:
        """Start process ``name`` (``intake``, ``streams``, ``dispatch``, ``gatewayN``)."""
        running = self.procs.get(name)
        if running is not None and running.poll() is None:
            return running
        args = ["wallboard", *self.gateway_args] if name.startswith("gateway") else MODULES[name]
        with self.log(name).open("ab") as log:
            log.write(f"\n===== start {name} at {time.time():.3f}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                [sys.executable, "-m", *args],
                cwd=ROOT,
                env=self.env(name),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs[name] = proc
        return proc

    def start_all(self, *, streams: bool = True) -> None:
        """Create the topics and start every process."""
        self.create_topics()
        names = ["intake", "dispatch", *self.gateway_names]
        if streams:
            names.insert(1, "streams")
        for name in names:
            self.start(name)

    def signal(self, name: str, sig: int) -> None:
        """Send ``sig`` to the process group of ``name``."""
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)

    def kill(self, name: str) -> None:
        """SIGKILL process ``name`` (kill -9) and reap it."""
        self.signal(name, signal.SIGKILL)
        proc = self.procs.get(name)
        if proc is not None:
            proc.wait(timeout=30)

    def stop(self, name: str, timeout: float = 20.0) -> None:
        """SIGTERM process ``name``; SIGKILL after ``timeout``."""
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        self.signal(name, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill(name)

    def alive(self, name: str) -> bool:
        """Whether process ``name`` runs."""
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def rss_bytes(self, name: str) -> int:
        """Resident memory of process ``name`` (0 when it is not running)."""
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return 0
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def stop_all(self) -> None:
        """SIGTERM everything, SIGKILL what does not stop."""
        for name in list(self.procs):
            self.signal(name, signal.SIGTERM)
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.signal(name, signal.SIGKILL)
                proc.wait(timeout=10)

    # --- readiness and tokens ---------------------------------------------------------------

    async def healthy(self, name: str) -> bool:
        """Whether ``name`` answers its health check with 200 (streams: its metrics page)."""
        path = "/metrics" if name == "streams" else "/healthz"
        try:
            async with httpx.AsyncClient(timeout=2.0) as http:
                return (await http.get(self.url(name) + path)).status_code == 200
        except httpx.HTTPError:
            return False

    async def ready(self, names: list[str] | None = None, within: float = 90.0) -> float:
        """Wait until every named process (default: all started that have a port) is healthy;
        seconds taken."""
        started = time.monotonic()
        pending = list(names or (name for name in self.procs if name in self.ports))
        while pending:
            for name in list(pending):
                if not self.alive(name):
                    tail = self.log_text(name)[-3000:]
                    raise AssertionError(f"{name} exited:\n{tail}")
                if await self.healthy(name):
                    pending.remove(name)
            if pending:
                if time.monotonic() - started > within:
                    raise AssertionError(f"not healthy within {within} s: {pending}")
                await asyncio.sleep(0.25)
        return time.monotonic() - started

    def redis(self) -> aioredis.Redis:
        """A new Redis client for the system's server (the caller closes it)."""
        return aioredis.from_url(str(self.settings.redis_url))

    async def token(
        self, role: str, scope: str = "", *, user: str | None = None, ttl: int | None = None
    ) -> str:
        """Issue a real token, as ``gridhub token issue`` does (its hash recorded in the
        system's Kafka, then in its Redis)."""
        client = self.redis()
        try:
            async with TokenLog(self.settings) as log:
                raw, _ = await issue_token(
                    client,
                    self.keys,
                    self.city,
                    user=user or f"{role}-{scope or 'city'}",
                    role=role,
                    scope_code=scope,
                    ttl_seconds=ttl,
                    log=log,
                )
            return raw
        finally:
            await client.aclose()

    async def revoke(self, token_id: str) -> bool:
        """Revoke a token, as ``gridhub token revoke`` does (Kafka, then Redis)."""
        client = self.redis()
        try:
            async with TokenLog(self.settings) as log:
                return await revoke_token(client, self.keys, token_id, log=log)
        finally:
            await client.aclose()

    def __enter__(self) -> System:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()

"""A throwaway Redis for fault tests, so the shared server is never stopped or flushed.

    with PrivateRedis() as redis:          # redis-server on a free port in a temp dir, AOF on
        settings = settings.model_copy(update={"redis_url": redis.url})
        redis.stop()                       # the server goes away (its AOF stays)
        redis.start()                      # and comes back with the same data
        redis.wipe()                       # stopped: its data files are deleted
        redis.start()                      # comes back empty

It runs Debian's ``redis-server`` with the options scripts/redis.sh uses (AOF, everysec);
the process and its temp dir are removed on exit.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from tests.support.uvicorn_thread import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class PrivateRedis:
    """One private redis-server; :meth:`start`, :meth:`stop` and :meth:`wipe` may repeat."""

    def __init__(self) -> None:
        if not Path(REDIS_SERVER).exists():
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.dir = Path(tempfile.mkdtemp(prefix="gridhub-redis-"))
        self.data = self.dir / "data"
        self.data.mkdir()
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = self.dir / "redis.log"
        self._process: subprocess.Popen[bytes] | None = None

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def start(self, timeout: float = 20.0) -> None:
        """Start the server on the same port and data dir; wait until it answers PING."""
        if self._process is not None and self._process.poll() is None:
            return
        self._process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.data),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--logfile",
                str(self.log),
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
                self.stop()
                raise RuntimeError(f"private Redis did not start on {self.port}:\n{tail}")
            time.sleep(0.05)

    def stop(self, kill: bool = False) -> None:
        """Stop the server (SIGTERM, or SIGKILL with ``kill``); its data files stay."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        if kill:
            process.kill()
        else:
            process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def wipe(self) -> None:
        """Stop the server (SIGKILL: no final save) and delete every data file it had."""
        self.stop(kill=True)
        shutil.rmtree(self.data, ignore_errors=True)
        self.data.mkdir()

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop(kill=True)
        shutil.rmtree(self.dir, ignore_errors=True)

"""A throwaway single-node Kafka (KRaft) for fault tests, so the shared broker is untouched.

    with PrivateKafka() as kafka:          # formats a temp dir, starts on free ports
        settings = settings.model_copy(update={"kafka_bootstrap": kafka.bootstrap})
        kafka.stop()                       # the broker goes away (data kept)
        kafka.start()                      # and comes back with the same data

It uses the jars scripts/kafka.sh fetched into .local/kafka/libs and mirrors its
server.properties; the process and its temp dir are removed on exit.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from tests.support.uvicorn_thread import free_port

ROOT = Path(__file__).resolve().parents[2]
LIBS = ROOT / ".local" / "kafka" / "libs"

PROPERTIES = """process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:{controller}
listeners=PLAINTEXT://localhost:{port},CONTROLLER://localhost:{controller}
advertised.listeners=PLAINTEXT://localhost:{port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={data}
num.partitions=2
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=2
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
delete.topic.enable=true
"""


class PrivateKafka:
    """One private broker in a temp dir; :meth:`start` and :meth:`stop` may repeat."""

    def __init__(self) -> None:
        if not any(LIBS.glob("kafka_2.13-*.jar")):
            raise RuntimeError(f"no Kafka jars in {LIBS}; run scripts/kafka.sh up once")
        self.dir = Path(tempfile.mkdtemp(prefix="gridhub-kafka-"))
        self.port = free_port()
        self.controller = free_port()
        self.bootstrap = f"localhost:{self.port}"
        self.props = self.dir / "server.properties"
        self.log = self.dir / "server.log"
        self.props.write_text(
            PROPERTIES.format(port=self.port, controller=self.controller, data=self.dir / "data")
        )
        self._process: subprocess.Popen[bytes] | None = None
        self._format()

    def _java(self, *args: str) -> list[str]:
        return ["java", "-cp", f"{LIBS}/*", *args]

    def _format(self) -> None:
        cluster = subprocess.run(
            self._java("kafka.tools.StorageTool", "random-uuid"),
            capture_output=True,
            text=True,
            check=True,
        )
        cluster_id = cluster.stdout.strip().splitlines()[-1]
        subprocess.run(
            self._java(
                "kafka.tools.StorageTool",
                "format",
                "--cluster-id",
                cluster_id,
                "-c",
                str(self.props),
                "--ignore-formatted",
            ),
            capture_output=True,
            check=True,
        )

    def ready(self, seconds: float) -> bool:
        """True once the broker answers a metadata request (within ``seconds``)."""
        done = subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts" / "kafka_ready.py"),
                self.bootstrap,
                str(seconds),
            ],
            capture_output=True,
        )
        return done.returncode == 0

    def start(self, timeout: float = 90.0) -> None:
        """Start the broker and wait until it answers."""
        if self._process is not None and self._process.poll() is None:
            return
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    "java",
                    "-Xmx512m",
                    "-Xms128m",
                    f"-Dlog4j2.configurationFile={ROOT / 'infra' / 'log4j2.yaml'}",
                    "-cp",
                    f"{LIBS}/*",
                    "kafka.Kafka",
                    str(self.props),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if not self.ready(timeout):
            tail = self.log.read_text(errors="replace")[-3000:]
            self.stop()
            raise RuntimeError(f"private Kafka did not start on {self.bootstrap}:\n{tail}")

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after 30 s); its data stays."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> PrivateKafka:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

"""The real services for the benchmarks that measure them: one :class:`BenchSystem`.

    async with own_or_shared(system, "intake") as bench_system:   # system: None or the shared
        await bench_system.up("intake")                             # starts what is not running
        url = bench_system.system.url("intake")

It wraps tests/support/system.py (the processes as scripts/services.sh runs them: intake,
the stream worker, dispatch, the wallboard feeder, summarizer and gateways) on fresh topic
and Redis prefixes, with the production settings where the test helper sets test ones, and
a city file: the reference city (Shulan) plus ``BENCH-FAST``, a village-tier category whose
sign-for and resolve deadlines fall due within seconds (for the alert benchmark).

A full run (``python -m bench``) gives each benchmark a system of its own, started for it
and stopped after it, so each figure is measured with nothing else running. ``--quick``
starts one system and hands it to each benchmark in turn (all six: the pipeline's worker is
its worker, started by the pipeline benchmark): the processes start once, which is most of
the time a quick run takes. Its figures are not asserted. A quick system's worker has a
6 s consumer group session timeout (see :data:`QUICK_SESSION_TIMEOUT`).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

from bench.support import LOGS, cleanup, create_topics, fresh_settings, mark_store_complete
from gridhub.keys import RedisKeys
from gridhub.settings import DEFAULT_CITY_FILE, Settings
from tests.streams.support import city_with_category, intake_matter, intake_record, publish
from tests.support.system import System

FAST_CATEGORY = "BENCH-FAST"
FAST_SLA = {"sign_for": "4s", "resolve": "8s", "report_in": "3s"}
#: Where a matter of the city is reported when a benchmark needs one (any grid would do).
GRID = "T01-V001-G001"


def bench_city(folder: Path) -> Path:
    """The reference city plus :data:`FAST_CATEGORY`, written to ``folder``."""
    category = {
        "code": FAST_CATEGORY,
        "name_zh": "基准测试快速事项",
        "name_en": "Benchmark fast matter",
        "group": "other",
        "default_tier": "village",
        "departments": ["ZJJ", "GAJ"],
        "sla": {"normal": FAST_SLA, "urgent": FAST_SLA},
    }
    return city_with_category(DEFAULT_CITY_FILE, folder / "city_bench.json", category)


#: --quick: the consumer group session timeout of the stream worker (the setting
#: ``streams_session_timeout_seconds``, 10 s by default): the broker's minimum, so that the
#: recovery benchmark's restarted worker gets its partitions within seconds.
QUICK_SESSION_TIMEOUT = 6


def _env(settings: Settings, quick: bool) -> dict[str, str]:
    """Production values where tests/support/system.py sets test ones; quiet logs."""
    session = {"GRIDHUB_STREAMS_SESSION_TIMEOUT_SECONDS": str(QUICK_SESSION_TIMEOUT)}
    return {
        **(session if quick else {}),
        "GRIDHUB_STREAMS_BATCH_SECONDS": str(settings.streams_batch_seconds),
        "GRIDHUB_WALLBOARD_PING_INTERVAL": str(settings.wallboard_ping_interval),
        "GRIDHUB_WALLBOARD_PING_TIMEOUT": str(settings.wallboard_ping_timeout),
        "GRIDHUB_LOG_LEVEL": "WARNING",
        "GRIDHUB_DISPATCH_WEBHOOKS": "false",  # no department endpoints to call here
        "GRIDHUB_COMMAND_WAIT_SECONDS": "10",
    }


class BenchSystem:
    """Fresh topics and keys, the bench city, and the processes started on demand."""

    def __init__(self, kind: str, gateways: int = 1, *, quick: bool = False) -> None:
        workdir = LOGS / kind
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        self.settings = fresh_settings(kind, city_file=bench_city(workdir))
        self.system = System(
            self.settings,
            workdir,
            gateways=gateways,
            gateway_args=("gateway", "--no-feeder"),  # the feeder runs as its own process
            env=_env(self.settings, quick),
        )
        self.keys = RedisKeys(self.settings.redis_prefix)
        self._prepared = False
        self._streams_seen = False

    def prepare(self) -> None:
        """Create the topics and mark the (empty) projection store complete, once."""
        if not self._prepared:
            create_topics(self.settings)
            mark_store_complete(self.settings)  # fresh: no rebuild at the worker's first start
            self._prepared = True

    def launch(self, *names: str) -> None:
        """Start whichever of ``names`` is not running, without waiting for it (default:
        every process of the system)."""
        self.prepare()
        system = self.system
        default = ("streams", "intake", "dispatch", "feeder", "summarizer", *system.gateway_names)
        for name in names or default:
            if not system.alive(name):
                system.start(name)
                if name == "streams":
                    self._streams_seen = False

    async def up(self, *names: str) -> None:
        """Start whichever of ``names`` is not running and wait until those with a port
        answer (``streams``: until it has projected a matter)."""
        self.prepare()
        if names:
            self.launch(*names)
        answering = [n for n in names if n in self.system.ports]
        if answering:  # (an empty list would mean: every process started)
            await self.system.ready(answering)
        if "streams" in names and not self._streams_seen:
            await self.projected_one()
            self._streams_seen = True

    async def projected_one(self, within: float = 90.0) -> None:
        """Publish one intake matter and wait until the worker has projected it."""
        matter = intake_matter(category="LIV-HEATING", grid=GRID)
        topic = self.system.topics.intake
        await asyncio.to_thread(publish, self.settings, topic, [intake_record(matter)])
        redis = self.system.redis()
        try:
            deadline = time.monotonic() + within
            while not await redis.exists(self.keys.matter(matter.matter_id)):
                if not self.system.alive("streams") or time.monotonic() > deadline:
                    tail = self.system.log_text("streams")[-2000:]
                    raise RuntimeError(f"the stream worker projected nothing:\n{tail}")
                await asyncio.sleep(0.1)
        finally:
            await redis.aclose()

    async def close(self) -> None:
        """Stop every process; delete the topics and keys."""
        self.system.stop_all()
        await cleanup(self.settings)


@contextlib.asynccontextmanager
async def own_or_shared(
    shared: BenchSystem | None, kind: str, gateways: int = 1, *, quick: bool = False
) -> AsyncIterator[BenchSystem]:
    """``shared`` as it is, or a system of the benchmark's own, closed afterwards."""
    if shared is not None:
        yield shared
        return
    own = BenchSystem(kind, gateways, quick=quick)
    try:
        yield own
    finally:
        await own.close()

"""Helpers of the streams/ tests: a test city with a department-tier category, the worker as
a subprocess, publishing intake and commands (kafka-python) and reading outputs (aiokafka).

    city_file = dept_city(tmp_path)
    with worker(settings, tmp_path) as proc: ...
    publish(settings, settings_topics.intake, [intake_record(...)])
    events = await collect(settings, topic, until=lambda evs: len(evs) >= 3)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer
from kafka import KafkaProducer

from gridhub.citydata import load_city
from gridhub.cloudevents import CloudEvent, KafkaRecord, decode, encode
from gridhub.commands_topic import command_record
from gridhub.domain.commands import Actor, Command
from gridhub.intake import IntakeMatter, intake_event
from gridhub.kafka_admin import all_topics, delete_topics_with_prefix, ensure_topics
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics
from streams.context import build_context
from streams.deadlines import DeadlineIndex
from streams.hotspots import HotspotCounter
from streams.processor import Processor
from streams.projections import Projector
from streams.publisher import Row
from streams.runtime import BatchRuntime
from tests.conftest import FAST_CITY, ROOT

TOWNSHIP_ACTOR = Actor(user_id="t01", role="township_hub", scope_kind="township", scope_code="T01")
VILLAGE_ACTOR = Actor(user_id="v1", role="village_hub", scope_kind="village", scope_code="T01-V001")
GRID = "T01-V001-G001"  # in village T01-V001, township T01


class DictStore:
    """A table's local store as Faust's ``memory://`` store holds it (a dict); ``topic``
    names its changelog."""

    def __init__(self, topic: str = "changelog") -> None:
        self.topic = topic
        self.data: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def keep(self, key: bytes, value: bytes) -> None:
        self.data[key] = value


def batch_runtime(
    settings: Settings,
    redis: Any,
    publish: Callable[[Iterable[Row]], Awaitable[None]],
    *,
    threshold: int,
    processor: Processor | None = None,
) -> BatchRuntime:
    """A worker's batch runtime over ``redis`` (a ``redis.asyncio`` client) and the matters
    changelog of ``settings`` (created if missing), hotspots alerting at ``threshold``
    matters within an hour; ``processor``: the test's own, else the worker's."""
    ctx = build_context(settings)
    keys = RedisKeys(settings.redis_prefix)
    changelog = f"{settings.topic_prefix}matters-changelog"
    ensure_topics(settings, [changelog])
    return BatchRuntime(
        processor or Processor(ctx, Topics.from_settings(settings)),
        Projector(redis, keys, ctx),
        DeadlineIndex(redis, keys),
        HotspotCounter(redis, keys, threshold=threshold, window_seconds=3600),
        DictStore(changelog),
        publish,
    )


def city_with_category(base: Path, path: Path, category: dict[str, Any]) -> Path:
    """The city of ``base`` plus one ``category`` (a city-file category entry), written to
    ``path``."""
    data = json.loads(base.read_text(encoding="utf-8"))
    data["categories"].append(category)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def dept_city(folder: Path, sla: dict[str, str] | None = None) -> Path:
    """The fast test city plus ``TEST-DEPT``: department tier (ZJJ owner, GAJ co-handles)."""
    times = sla or {"sign_for": "2h", "resolve": "5wd", "report_in": "1wd"}
    category = {
        "code": "TEST-DEPT",
        "name_zh": "测试部门事项",
        "name_en": "Test department matter",
        "group": "other",
        "default_tier": "department",
        "departments": ["ZJJ", "GAJ"],
        "sla": {"normal": times, "urgent": times},
    }
    return city_with_category(FAST_CITY, folder / "city_dept.json", category)


def with_city(settings: Settings, city_file: Path) -> Settings:
    """``settings`` using another city file."""
    return settings.model_copy(update={"city_file": city_file})


def prepare_topics(settings: Settings) -> Topics:
    """Create every topic of the test up front (never by auto-create)."""
    topics = Topics.from_settings(settings)
    ensure_topics(settings, all_topics(topics, load_city(settings.city_file)))
    return topics


def drop_topics(settings: Settings) -> None:
    """Delete the test's topics (and the worker's changelogs, which share the prefix)."""
    with contextlib.suppress(Exception):
        delete_topics_with_prefix(settings, settings.topic_prefix)


def free_port() -> int:
    """A free local TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def worker_env(settings: Settings, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a worker subprocess for the test's settings."""
    return {
        **os.environ,
        "GRIDHUB_TOPIC_PREFIX": settings.topic_prefix,
        "GRIDHUB_REDIS_PREFIX": settings.redis_prefix,
        "GRIDHUB_CITY_FILE": str(settings.city_file),
        "GRIDHUB_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "GRIDHUB_REDIS_URL": str(settings.redis_url),
        "GRIDHUB_STREAMS_PORT": str(free_port()),
        "GRIDHUB_STREAMS_DATA_DIR": str(data_dir),
        "GRIDHUB_STREAMS_BATCH_SECONDS": "0.02",
        **extra,
    }


def start_worker(
    settings: Settings, data_dir: Path, log_name: str, **extra: str
) -> subprocess.Popen[bytes]:
    """Start ``python -m streams worker``; its output goes to ``.local/<log_name>.log``."""
    log_path = ROOT / ".local" / f"{log_name}.log"
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "streams", "worker"],
            cwd=ROOT,
            env=worker_env(settings, data_dir, **extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def worker_log_tail(log_name: str, lines: int = 60) -> str:
    """The last ``lines`` lines of a worker log started by :func:`start_worker` (for the
    message of a failed assertion: CI keeps only the test's output)."""
    path = ROOT / ".local" / f"{log_name}.log"
    if not path.exists():
        return f"(no log at {path})"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(line[:300] for line in text[-lines:])


def stop_worker(proc: subprocess.Popen[bytes], kill: bool = False) -> None:
    """SIGTERM (graceful) or SIGKILL the worker's process group and wait for it."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def worker(settings: Settings, data_dir: Path, **extra: str) -> Iterator[subprocess.Popen[bytes]]:
    """The worker running for the duration of the block."""
    proc = start_worker(
        settings, data_dir, f"streams-test-{settings.topic_prefix.strip('.')}", **extra
    )
    try:
        yield proc
    finally:
        stop_worker(proc)


def intake_matter(
    category: str = "TEST-DEPT",
    grid: str = GRID,
    received_at: datetime | None = None,
    matter_id: str | None = None,
    **fields: Any,
) -> IntakeMatter:
    """A valid intake matter of the test city."""
    mid = matter_id or f"M{uuid.uuid4().hex[:12].upper()}"
    return IntakeMatter(
        matter_id=mid,
        source="app",  # type: ignore[arg-type]
        source_id=mid,
        received_at=received_at or datetime.now(UTC),
        category=category,
        grid=grid,
        description="路灯不亮 (test)",
        reporter={"name": "张三", "phone": "13800000000"},  # type: ignore[arg-type]
        **fields,
    )


def intake_record(matter: IntakeMatter) -> KafkaRecord:
    """The Kafka record a connector publishes for ``matter``."""
    return encode(intake_event(matter))


def cmd_record(command: Command) -> KafkaRecord:
    """The Kafka record dispatch/ publishes for ``command``."""
    return command_record(command, source="/tests")


def publish(settings: Settings, topic: str, records: Sequence[KafkaRecord]) -> None:
    """Publish ``records`` (acks=all) and wait until Kafka has them."""
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=5)
    try:
        for r in records:
            producer.send(topic, key=r.key, value=r.value, headers=r.headers)
        producer.flush(30)
    finally:
        producer.close()


def publish_raw(
    settings: Settings,
    topic: str,
    key: bytes | None,
    value: bytes | None,
    headers: list[tuple[str, bytes]],
) -> None:
    """Publish one arbitrary record (poison tests)."""
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    try:
        producer.send(topic, key=key, value=value, headers=headers)
        producer.flush(30)
    finally:
        producer.close()


async def collect(
    settings: Settings,
    topics: str | Sequence[str],
    until: Callable[[list[CloudEvent]], bool],
    within: float = 60.0,
    settle: float = 0.0,
) -> list[CloudEvent]:
    """Every CloudEvent of ``topics`` from the start, read until ``until(events)`` holds (then
    ``settle`` seconds more, to catch duplicates), or ``within`` seconds pass."""
    names = [topics] if isinstance(topics, str) else list(topics)
    consumer = AIOKafkaConsumer(
        *names,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=1000,
    )
    await consumer.start()
    out: list[CloudEvent] = []
    deadline = time.monotonic() + within
    settle_until: float | None = None
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batch.values():
                for r in records:
                    out.append(decode(r.value, r.headers))
            if settle_until is None and until(out):
                settle_until = time.monotonic() + settle
            if settle_until is not None and time.monotonic() >= settle_until:
                break
    finally:
        await consumer.stop()
    return out


async def wait_for(check: Callable[[], Any], within: float = 30.0, every: float = 0.1) -> Any:
    """Poll the (async) ``check`` until it returns a truthy value; that value, or the last."""
    deadline = time.monotonic() + within
    value = None
    while time.monotonic() < deadline:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(every)
    return value


async def assert_each_warning_once(s: Settings, redis_client: Any, ids: set[str], log: str) -> None:
    """Every matter of ``ids`` (TEST-DEPT, second-scale clocks) went yellow then red on its
    sign-for and resolve deadlines: each of those alert ids is on ``alerts`` (copies of a
    record carry its id) and is projected exactly once, as are KPI counters and timeline
    entries; ``log`` names the worker log whose tail a failure shows."""
    topics = Topics.from_settings(s)
    keys = RedisKeys(s.redis_prefix)
    # every matter's sign_for and resolve deadlines go yellow then red: 4 alerts each
    expected = {
        f"{i}:{k}:1:{lvl}"
        for i in ids
        for k in ("sign_for", "resolve")
        for lvl in ("yellow", "red")
    }

    def all_alerts(evs: list[CloudEvent]) -> bool:
        return {e.id for e in evs} >= expected

    alerts = await collect(s, topics.alerts, all_alerts, within=120, settle=2.0)
    deadline_alerts = [a for a in alerts if a.data["level"] in ("yellow", "red")]
    absent = expected - {a.id for a in deadline_alerts}
    assert not absent and len({a.id for a in deadline_alerts}) == len(expected), (
        f"{len(absent)} of {len(expected)} alerts missing, e.g. {sorted(absent)[:5]}; "
        f"worker log tail:\n{worker_log_tail(log)}"
    )
    for alert in deadline_alerts:  # an id always means the same alert
        assert alert.data["matter_id"] == alert.id.split(":")[0]
    copies = Counter(a.id for a in deadline_alerts)
    print(f"alert records: {len(deadline_alerts)}, distinct: {len(copies)}")

    # projections: exactly once, no de-duplication needed
    async def projected() -> bool:
        members = await redis_client.zrange(keys.warnings(), 0, -1)
        return len(members) >= len(expected)

    await wait_for(projected, within=30)
    members = [orjson.loads(m) for m in await redis_client.zrange(keys.warnings(), 0, -1)]
    warn_ids = Counter(m["id"] for m in members if m["level"] in ("yellow", "red"))
    assert set(warn_ids) == expected and max(warn_ids.values()) == 1
    # each event counts on its own Asia/Shanghai day (and month): a run across local
    # midnight splits the counts over two keys, so the totals per key length are compared
    totals: dict[int, Counter[str]] = {}
    async for key in redis_client.scan_iter(match=f"{s.redis_prefix}kpi:city:*"):
        bucket = key.decode().rsplit(":", 1)[1]  # YYYYMMDD or YYYYMM
        counters = await redis_client.hgetall(key)
        for name, value in counters.items():
            totals.setdefault(len(bucket), Counter())[name.decode()] += int(value)
    assert set(totals) == {8, 6}, totals
    for by_name in totals.values():
        assert by_name["accepted"] == len(ids), totals
        assert by_name["overdue"] == len(ids), totals  # one red resolve warning per matter
    for mid in list(ids)[:50]:
        timeline = [orjson.loads(e) for e in await redis_client.lrange(keys.timeline(mid), 0, -1)]
        event_ids = [e["event_id"] for e in timeline]
        assert len(event_ids) == len(set(event_ids)), mid

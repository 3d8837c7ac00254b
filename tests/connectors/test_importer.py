"""Batch import of call-centre exports (CSV and JSON lines): accepted, duplicate, rejected."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from connectors.config import IntakeConfig
from connectors.importer import ImportAborted, import_file, summary_lines
from gridhub.cloudevents import decode
from gridhub.intake import Source, matter_id_for
from gridhub.settings import Settings
from gridhub.topics import Topics
from tests.connectors.conftest import intake_records
from tests.support.kafka_topics import read_all
from tests.support.uvicorn_thread import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]

GOOD = {"category": "LIV-HEATING", "content": "暖气不热", "grid": "T01-V001-G001"}


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    columns = ["call_id", "call_time", "category", "content", "grid", "caller_phone", "agent"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)


async def test_csv_import_goes_on_past_bad_lines(
    settings: Settings, topics: Topics, tmp_path: Path, redis_client: object
) -> None:
    rows = [
        {**GOOD, "call_id": f"C{i}", "call_time": "2024-06-01 09:00:00", "agent": "A7"}
        for i in range(20)
    ]
    rows[3] = {**rows[3], "category": "NOPE"}
    rows[7] = {**rows[7], "grid": "T09-V999-G999"}
    rows[9] = {**rows[9], "content": "\x01\x02 "}
    rows.append({**rows[0]})  # the same call twice in the export
    path = tmp_path / "calls.csv"
    write_csv(path, rows)

    summary = await import_file(path, Source.HOTLINE_12345, settings, concurrency=8)
    assert (summary.total, summary.accepted, summary.duplicate, summary.rejected) == (21, 17, 1, 3)
    assert summary.reasons == {"category: invalid": 1, "grid: invalid": 1, "content: invalid": 1}
    assert summary.ignored_fields == {"agent"}
    report = [
        orjson.loads(line)
        for line in path.with_name("calls.csv.rejected.jsonl").read_bytes().splitlines()
    ]
    assert sorted(r["line"] for r in report) == [5, 9, 11]  # header is line 1
    assert report[0]["errors"][0]["field"] in {"category", "grid", "content"}

    records = intake_records(settings, 17)
    assert len(records) == 17
    ids = {event.subject for _, event in records}
    assert matter_id_for("hotline-12345", "C0") in ids
    assert all(event.data["source"] == "hotline-12345" for _, event in records)
    dead = [decode(r.value, r.headers) for r in read_all(settings, topics.dead_letter, 3)]
    assert sorted(e.data["line"] for e in dead) == [5, 9, 11]
    assert all(e.type == "gridhub.intake.rejected.v1" for e in dead)
    assert any("accepted: 17" in line for line in summary_lines(summary))

    again = await import_file(path, Source.HOTLINE_12345, settings, concurrency=8)
    assert (again.accepted, again.duplicate, again.rejected) == (0, 18, 3)
    assert len(intake_records(settings, 17)) == 17


async def test_jsonl_import_with_broken_lines(
    settings: Settings, topics: Topics, tmp_path: Path, redis_client: object
) -> None:
    lines = [
        orjson.dumps({**GOOD, "call_id": "J1"}).decode(),
        "{not json",
        "[1, 2]",
        orjson.dumps({**GOOD, "call_id": "J2", "lat": "north"}).decode(),
        "",
        orjson.dumps({**GOOD, "call_id": "J3", "content": "x" * 5000}).decode(),
        orjson.dumps({**GOOD, "call_id": "J4"}).decode(),
    ]
    path = tmp_path / "calls.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = tmp_path / "rejects.jsonl"
    summary = await import_file(path, Source.HOTLINE_BUSINESS, settings, report=report)
    assert (summary.accepted, summary.rejected) == (2, 4)
    assert summary.reasons == {
        "line: invalid_json": 1,
        "line: invalid": 1,
        "lat: invalid": 1,
        "content: too_large": 1,
    }
    assert len(report.read_bytes().splitlines()) == 4


def test_cli_import_prints_a_summary(settings: Settings, topics: Topics, tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    write_csv(path, [{**GOOD, "call_id": "K1"}, {**GOOD, "call_id": "K2", "category": "X"}])
    env = {
        "GRIDHUB_TOPIC_PREFIX": settings.topic_prefix,
        "GRIDHUB_REDIS_PREFIX": settings.redis_prefix,
        "GRIDHUB_CITY_FILE": str(settings.city_file),
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
    }
    gridhub = str(Path(sys.executable).parent / "gridhub")
    done = subprocess.run(
        [gridhub, "import", str(path), "--source", "hotline-12345"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "accepted: 1" in done.stdout and "rejected: 1" in done.stdout
    assert "category: invalid" in done.stdout
    bad = subprocess.run(
        [gridhub, "import", str(path), "--source", "app"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert bad.returncode == 2 and "hotline-12345" in bad.stdout


async def test_import_stops_when_kafka_stays_down(
    settings: Settings, tmp_path: Path, redis_client: object
) -> None:
    down = settings.model_copy(update={"kafka_bootstrap": f"localhost:{free_port()}"})
    path = tmp_path / "calls.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps({**GOOD, "call_id": f"D{i}"}) for i in range(50)))
    with pytest.raises(ImportAborted) as info:
        await import_file(
            path,
            Source.HOTLINE_12345,
            down,
            concurrency=4,
            config=IntakeConfig(kafka_timeout_ms=500),
            max_pause_seconds=1,
        )
    assert info.value.summary.accepted == 0 and info.value.summary.total == 50

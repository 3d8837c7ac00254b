"""Batch import of a call-centre export: ``gridhub import FILE --source hotline-12345``.

    summary = asyncio.run(import_file(Path("calls.csv"), Source.HOTLINE_12345, settings))

The file is CSV (a header row of :class:`~connectors.channels.hotline.CallRecord` field
names) or JSON lines (one object per line). Every line goes the same way as
``POST /v1/hotlines/...``: normalise, dedupe, publish, wait for Kafka's ack. A bad line is
rejected with its reason, published to the dead-letter topic (``intake.rejected.v1``) and
written to a local report file (``FILE.rejected.jsonl``); the import goes on past it.
When Kafka is down the import pauses and retries the same lines until it is back (up to
``max_pause_seconds``, then it stops: re-run the same command, accepted lines come back as
duplicates). Columns the record does not know are ignored and listed in the summary.
"""

from __future__ import annotations

import asyncio
import csv
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from connectors.channels.hotline import HOTLINE_SOURCES, CallRecord, call_matter
from connectors.config import IntakeConfig
from connectors.errors import IntakeError, IntakeUnavailable, validation_error
from connectors.normalize import Gazetteer
from connectors.publisher import IntakePublisher
from connectors.service import IntakeService
from gridhub.citydata import load_city
from gridhub.intake import Source
from gridhub.redisconn import open_redis
from gridhub.settings import Settings

FIELDS = frozenset(CallRecord.model_fields)


class ImportAborted(RuntimeError):
    """Kafka stayed down longer than allowed; ``summary`` says what was done."""

    def __init__(self, summary: ImportSummary) -> None:
        super().__init__(
            f"Kafka unavailable for over the pause limit; {summary.done} of "
            f"{summary.total} lines done"
        )
        self.summary = summary


@dataclass
class ImportSummary:
    """Counts of an import, the reasons lines were rejected, and where they were written."""

    total: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    ignored_fields: set[str] = field(default_factory=set)
    report: Path | None = None
    paused_seconds: float = 0.0
    elapsed_seconds: float = 0.0

    @property
    def done(self) -> int:
        return self.accepted + self.duplicate + self.rejected


def read_lines(path: Path) -> Iterator[tuple[int, str, dict[str, Any] | IntakeError]]:
    """(line number, raw text, fields or the parse error) for each record of ``path``."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                raw = ",".join(v or "" for v in row.values() if isinstance(v, str))
                fields = {k: v for k, v in row.items() if k and isinstance(v, str) and v.strip()}
                yield reader.line_num, raw, fields
        return
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield (
                    number,
                    line.rstrip("\n"),
                    IntakeError(400, "invalid_json", f"not JSON: {exc}", "line"),
                )
                continue
            if not isinstance(data, dict):
                yield (
                    number,
                    line.rstrip("\n"),
                    IntakeError(422, "invalid", "not a JSON object", "line"),
                )
                continue
            yield number, line.rstrip("\n"), data


def count_lines(path: Path) -> int:
    """How many records ``path`` holds (for the progress bar)."""
    return sum(1 for _ in read_lines(path))


class Importer:
    """One import run over an already started :class:`IntakeService`."""

    def __init__(
        self,
        service: IntakeService,
        gazetteer: Gazetteer,
        source: Source,
        path: Path,
        report: Path,
        *,
        max_pause_seconds: float = 900.0,
    ) -> None:
        self.service = service
        self.gazetteer = gazetteer
        self.source = source
        self.path = path
        self.report = report
        self.max_pause = max_pause_seconds
        self.summary = ImportSummary(report=report)
        self._report_handle: Any = None
        self._paused_since: float | None = None
        self._aborted = False

    def _matter_of(self, fields: dict[str, Any]) -> Any:
        self.summary.ignored_fields.update(set(fields) - FIELDS)
        known = {k: v for k, v in fields.items() if k in FIELDS}
        try:
            call = CallRecord.model_validate(known)
        except ValidationError as exc:
            raise validation_error(exc) from None
        return call_matter(self.gazetteer, self.source, call)

    async def _until_published(self, action: Any) -> Any:
        """Run ``action()`` (a publish) again and again while Kafka is unavailable."""
        delay = 0.5
        while True:
            try:
                result = await action()
            except IntakeUnavailable:
                now = time.monotonic()
                self._paused_since = self._paused_since or now
                if now - self._paused_since > self.max_pause:
                    raise
                await asyncio.sleep(delay)
                self.summary.paused_seconds += delay
                delay = min(delay * 2, 5.0)
                continue
            self._paused_since = None
            return result

    async def _reject(self, number: int, raw: str, err: IntakeError) -> None:
        problems = err.details or [(err.field or "line", err.message)]
        entry = {
            "file": str(self.path),
            "line": number,
            "source": self.source.value,
            "raw": raw,
            "errors": [{"field": f, "message": m} for f, m in problems],
        }
        await self._until_published(lambda: self.service.dead_letter(entry))
        if self._report_handle is None:
            self._report_handle = self.report.open("wb")
        self._report_handle.write(orjson.dumps(entry) + b"\n")
        self.summary.rejected += 1
        self.summary.reasons[f"{err.field or 'line'}: {err.code}"] += 1

    async def one(self, number: int, raw: str, parsed: dict[str, Any] | IntakeError) -> None:
        """Import one line: accept, mark duplicate, or reject it with its reason."""
        try:
            if isinstance(parsed, IntakeError):
                raise parsed
            matter = self._matter_of(parsed)
        except IntakeError as err:
            await self._reject(number, raw, err)
            return
        result = await self._until_published(lambda: self.service.submit(matter))
        if result.duplicate:
            self.summary.duplicate += 1
        else:
            self.summary.accepted += 1

    async def run(self, concurrency: int = 128, progress: Progress | None = None) -> ImportSummary:
        """Import every line with up to ``concurrency`` in flight; return the summary."""
        started = time.monotonic()
        self.summary.total = count_lines(self.path)
        task = progress.add_task("importing", total=self.summary.total) if progress else None
        queue: asyncio.Queue[tuple[int, str, Any] | None] = asyncio.Queue(concurrency * 2)

        async def worker() -> None:
            while (item := await queue.get()) is not None:
                if self._aborted:
                    continue  # drain, so the feeder never blocks on a full queue
                try:
                    await self.one(*item)
                except IntakeUnavailable:
                    self._aborted = True
                    continue
                if progress is not None and task is not None:
                    state = "paused: Kafka unavailable" if self._paused_since else "importing"
                    progress.update(task, advance=1, description=state)

        workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
        try:
            for item in read_lines(self.path):
                if self._aborted:
                    break  # Kafka stayed down too long: stop feeding
                await queue.put(item)
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers)
            if self._aborted:
                raise ImportAborted(self.summary)
        finally:
            for w in workers:
                w.cancel()
            if self._report_handle is not None:
                self._report_handle.close()
            self.summary.elapsed_seconds = time.monotonic() - started
        if self.summary.rejected == 0:
            self.summary.report = None
        return self.summary


async def import_file(
    path: Path,
    source: Source,
    settings: Settings,
    *,
    config: IntakeConfig | None = None,
    report: Path | None = None,
    concurrency: int = 128,
    max_pause_seconds: float = 900.0,
    console: Console | None = None,
) -> ImportSummary:
    """Import ``path`` as ``source`` call records; see the module doc for the behaviour."""
    if source not in HOTLINE_SOURCES:
        raise ValueError(
            f"files can be imported only for {sorted(s.value for s in HOTLINE_SOURCES)}"
        )
    cfg = config or IntakeConfig()
    city = load_city(settings.city_file)
    redis = open_redis(str(settings.redis_url))
    publisher = IntakePublisher(
        settings,
        timeout_ms=cfg.kafka_timeout_ms,
        linger_ms=max(cfg.linger_ms, 10),
        client_id="gridhub-import",
    )
    service = IntakeService(settings, cfg, city, redis, publisher)
    importer = Importer(
        service,
        Gazetteer(city),
        source,
        path,
        report or path.with_name(path.name + ".rejected.jsonl"),
        max_pause_seconds=max_pause_seconds,
    )
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ]
    try:
        if console is None:
            return await importer.run(concurrency)
        with Progress(*columns, console=console, transient=False) as progress:
            return await importer.run(concurrency, progress)
    finally:
        await publisher.close()
        await redis.aclose()


def summary_lines(summary: ImportSummary) -> list[str]:
    """The human summary of an import, one line each."""
    rate = summary.done / summary.elapsed_seconds if summary.elapsed_seconds else 0.0
    lines = [
        f"lines: {summary.total}  accepted: {summary.accepted}  duplicate: "
        f"{summary.duplicate}  rejected: {summary.rejected}  ({rate:,.0f} lines/s)",
    ]
    for reason, count in summary.reasons.most_common():
        lines.append(f"  rejected {count} × {reason}")
    if summary.report is not None:
        lines.append(f"rejected lines: {summary.report} (and the dead-letter topic)")
    if summary.ignored_fields:
        lines.append(f"ignored unknown columns: {', '.join(sorted(summary.ignored_fields))}")
    if summary.paused_seconds:
        lines.append(f"paused {summary.paused_seconds:.0f} s while Kafka was unavailable")
    return lines

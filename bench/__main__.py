"""Run every benchmark against the real Kafka and Redis: ``python -m bench [--quick] [--only X]``.

Prints one table and writes ``bench/results/latest.json``: a list of entries
``{bench, name, value, unit, target, baseline?, ratio?}``. Each benchmark runs its own
physical-limit baseline in the same run, so a ratio holds on a noisy machine. A benchmark
that fails is an entry named ``FAILED`` (with its ``error``) and the exit code is 1.

``--quick`` keeps every benchmark working in CI in under a minute (``make test`` runs it);
its figures are not asserted. To fit, it measures small sizes, and the benchmarks share one
system (:mod:`bench.system`), started at once, instead of starting their own processes.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import platform
import signal
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.system import BenchSystem

#: Benchmark modules in the order they run (each has ``main(quick) -> list[dict]``).
BENCHES = [
    "pipeline",
    "alert_lateness",
    "recovery",  # before the others fill a quick run's shared topics: its rebuild reads them
    "intake",
    "dispatch_api",
    "end_to_end",
]
RESULTS = Path(__file__).parent / "results" / "latest.json"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:,.3g}"
    return "" if value is None else str(value)


def _takes_system(module: Any) -> bool:
    """Whether a benchmark's ``main`` accepts a running :class:`BenchSystem`."""
    return "system" in inspect.signature(module.main).parameters


def _launched(worker: bool) -> BenchSystem:
    """The quick run's system, its processes started (not waited for); the worker only if
    ``worker`` (else the pipeline benchmark starts it: it measures a worker from its start)."""
    system = BenchSystem("quick", quick=True)
    names = ["intake", "dispatch", "feeder", "summarizer", *system.system.gateway_names]
    system.launch(*names, *(["streams"] if worker else []))
    return system


def run(names: list[str], quick: bool) -> list[dict[str, Any]]:
    """Run the named benchmarks; a failing one is reported as an entry, not a crash."""
    entries: list[dict[str, Any]] = []
    modules: dict[str, Any] = {}
    for name in names:
        try:
            modules[name] = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{name}":
                raise
    # --quick: one system for the benchmarks that take one, stopped after the last of them
    sharing = [n for n, m in modules.items() if quick and _takes_system(m)]
    # it boots while the first benchmark runs
    shared = _launched(worker="pipeline" not in sharing) if sharing else None
    try:
        for name in names:
            module = modules.get(name)
            if module is None:
                entries.append(
                    {"bench": name, "name": "not available", "value": None, "unit": "",
                     "target": None}
                )  # fmt: skip
                continue
            started = time.monotonic()
            try:
                options: dict[str, Any] = {}
                if name in sharing:
                    options["system"] = shared
                for entry in module.main(quick, **options):
                    entry.setdefault("bench", name)
                    base, value = entry.get("baseline"), entry.get("value")
                    if base and value is not None and "ratio" not in entry:
                        entry["ratio"] = round(value / base, 4)
                    entries.append(entry)
            except Exception as exc:  # report, keep going with the next benchmark
                traceback.print_exc()
                entries.append(
                    {
                        "bench": name,
                        "name": "FAILED",
                        "value": None,
                        "unit": "",
                        "target": None,
                        "error": f"{type(exc).__name__}: {exc}",
                    }
                )
            entries.append(
                {
                    "bench": name,
                    "name": "wall time",
                    "value": round(time.monotonic() - started, 1),
                    "unit": "s",
                    "target": None,
                }
            )
            if shared is not None and name == sharing[-1]:
                asyncio.run(shared.close())
                shared = None
    finally:
        if shared is not None:
            asyncio.run(shared.close())
    return entries


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM (a CI timeout): unwind like Ctrl-C, so the processes stop and keys go."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write the results; 1 when a benchmark failed."""
    signal.signal(signal.SIGTERM, _terminated)
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, < 1 minute")
    parser.add_argument("--only", action="append", choices=BENCHES, help="run just this one")
    args = parser.parse_args(argv)
    started = time.monotonic()
    entries = run(args.only or BENCHES, args.quick)
    table = Table(title=f"gridhub benchmarks ({'quick' if args.quick else 'full'})")
    for column in ("bench", "name", "value", "unit", "target", "baseline", "ratio"):
        table.add_column(
            column, justify="right" if column in {"value", "baseline", "ratio"} else "left"
        )
    for e in entries:
        table.add_row(
            e["bench"],
            e["name"],
            _fmt(e.get("value")),
            e.get("error") or e.get("unit", ""),
            str(e.get("target") or ""),
            _fmt(e.get("baseline")),
            _fmt(e.get("ratio")),
        )
    console = Console()
    if not console.is_terminal:  # CI logs and files: one line per entry
        console = Console(width=220)
    console.print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "at": datetime.now(UTC).isoformat(),
                "quick": args.quick,
                "machine": {"python": platform.python_version(), "platform": platform.platform()},
                "total_seconds": round(time.monotonic() - started, 1),
                "entries": entries,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"wrote {RESULTS} ({time.monotonic() - started:.1f} s in all)")
    return 1 if any(e["name"] == "FAILED" for e in entries) else 0


if __name__ == "__main__":
    sys.exit(main())

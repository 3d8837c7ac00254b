"""The contract `make test` relies on: a benchmark that raises is an entry named FAILED (with
its error), the others still run, latest.json holds every entry, and the exit code is 1.
Also the screens of the end-to-end benchmark: the issue's 250 hub and 5,000 operator
clients. Pure: nothing here starts a process or touches Kafka or Redis."""

from __future__ import annotations

import json
import signal
import sys
import types
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import bench.__main__ as runner
from bench.end_to_end import Sizes, _hubs
from gridhub.citydata import load_city
from gridhub.settings import DEFAULT_CITY_FILE


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Two fake benchmarks, ``fine`` and ``broken``; the results go to ``tmp_path``."""

    def fine(quick: bool) -> list[dict[str, Any]]:
        return [{"name": "speed", "value": 50.0, "unit": "x/s", "target": 10, "baseline": 100}]

    def broken(quick: bool) -> list[dict[str, Any]]:
        raise RuntimeError("the worker is not processing")

    for name, main in (("fine", fine), ("broken", broken)):
        module = types.ModuleType(f"bench.{name}")
        module.main = main  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, f"bench.{name}", module)
    results = tmp_path / "latest.json"
    monkeypatch.setattr(runner, "BENCHES", ["broken", "fine"])
    monkeypatch.setattr(runner, "RESULTS", results)
    sigterm = signal.getsignal(signal.SIGTERM)  # main() installs its own
    yield results
    signal.signal(signal.SIGTERM, sigterm)


def test_a_failing_benchmark_is_an_entry_and_exit_code_1(fakes: Path) -> None:
    assert runner.main(["--quick"]) == 1
    written = json.loads(fakes.read_text())
    assert written["quick"] is True
    entries = written["entries"]
    failed = [e for e in entries if e["name"] == "FAILED"]
    assert [(e["bench"], e["error"]) for e in failed] == [
        ("broken", "RuntimeError: the worker is not processing")
    ]
    speed = next(e for e in entries if e["name"] == "speed")
    assert speed["bench"] == "fine" and speed["ratio"] == 0.5  # the next one still ran
    assert {e["bench"] for e in entries if e["name"] == "wall time"} == {"broken", "fine"}
    for entry in entries:  # the shape every reader of latest.json relies on
        assert {"bench", "name", "value", "unit", "target"} <= entry.keys()


def test_all_passing_is_exit_code_0(fakes: Path) -> None:
    assert runner.main(["--only", "fine"]) == 0
    assert json.loads(fakes.read_text())["quick"] is False


def test_the_screens_are_the_issue_s_250_hub_and_5000_operator_clients() -> None:
    city = load_city(DEFAULT_CITY_FILE)
    full = Sizes.of(quick=False)
    screens = _hubs(city, full.hub_screens, full.operators)
    assert len(screens) == 5250
    hubs, operators = screens[:250], screens[250:]
    assert len(set(hubs)) == 250  # the city, 20 townships, 229 villages: one screen each
    assert Counter(kind for kind, _ in hubs) == {"city": 1, "township": 20, "village": 229}
    kinds = Counter(kind for kind, _ in operators)
    assert kinds["city"] == 10 and kinds["township"] == 20 * 20
    assert kinds["department"] == 10 * len(city.departments)
    assert kinds["village"] == 5000 - 10 - 400 - 10 * len(city.departments)
    quick = Sizes.of(quick=True)
    few = _hubs(city, quick.hub_screens, quick.operators)
    boards = {hub for hub in few[: quick.hub_screens] if hub[0] == "village"}
    villages_watched = {hub for hub in few[quick.hub_screens :] if hub[0] == "village"}
    assert len(few) == quick.hub_screens + quick.operators
    assert villages_watched <= boards  # quick operators watch boards that have a hub screen

"""The worker's GC pause around a batch: off inside, back on after, also on errors."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from streams.tuning import batch_without_gc


@pytest.fixture(autouse=True)
def _gc_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_off_inside_and_on_again_after() -> None:
    with batch_without_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_in_the_batch_turns_it_back_on() -> None:
    with pytest.raises(RuntimeError, match="batch failed"), batch_without_gc():
        raise RuntimeError("batch failed")
    assert gc.isenabled()


def test_it_leaves_a_collector_someone_else_turned_off_alone() -> None:
    gc.disable()
    with batch_without_gc():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the fixture turns it back on

"""The worker's collector around a batch: off inside, on after (also on errors), what
outlives the batch frozen, and cyclic garbage among it reclaimed on schedule."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from streams.tuning import BatchGc


@pytest.fixture(autouse=True)
def _gc_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    gc.unfreeze()  # let the rest of the test session collect as usual
    if not was:
        gc.disable()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Node:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_the_collector_is_off_inside_and_on_again_after() -> None:
    with BatchGc().batch():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_in_the_batch_turns_it_back_on() -> None:
    with pytest.raises(RuntimeError, match="batch failed"), BatchGc().batch():
        raise RuntimeError("batch failed")
    assert gc.isenabled()


def test_it_leaves_a_collector_someone_else_turned_off_alone() -> None:
    gc.disable()
    with BatchGc().batch():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the fixture turns it back on


def test_what_outlives_a_batch_is_frozen_and_still_freed_when_dropped() -> None:
    with BatchGc().batch():
        kept = [object()]
    assert not any(o is kept for o in gc.get_objects())  # frozen: no generation holds it
    frozen = gc.get_freeze_count()
    del kept  # reference counting frees frozen objects as any other
    assert gc.get_freeze_count() == frozen - 1


def test_cyclic_garbage_among_frozen_objects_is_reclaimed_on_schedule() -> None:
    clock = Clock()
    collector = BatchGc(reclaim_seconds=60, clock=clock)
    with collector.batch():
        node = Node()
    ref = weakref.ref(node)
    del node  # garbage now, but frozen: collections do not see it
    gc.collect()
    assert ref() is not None
    clock.now = 59.0
    with collector.batch():
        pass
    assert ref() is not None
    clock.now = 60.0
    with collector.batch():
        pass
    assert ref() is None

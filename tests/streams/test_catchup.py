"""Which partitions' deadlines may fire (streams/catchup.py): after an assignment, only
once the intake it had then is processed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.catchup import CaughtUp


def test_a_partition_fires_once_its_intake_backlog_is_processed() -> None:
    caught = CaughtUp()
    assert caught.ready({0, 1}) == set()  # nothing known yet: nothing fires
    assert caught.unknown({0, 1}) == {0, 1}
    caught.assigned({0: 120, 1: 40}, {0: 80, 1: 40})  # partition 1 has no backlog
    assert caught.unknown({0, 1}) == set()
    assert caught.ready({0, 1}) == {1}
    caught.processed(0, 100)
    assert caught.ready({0, 1}) == {1}
    caught.processed(0, 119)
    assert caught.ready({0, 1}) == {0, 1}
    assert caught.ready({0}) == {0}  # only owned partitions


def test_an_empty_intake_or_one_never_committed() -> None:
    caught = CaughtUp()
    caught.assigned({0: 0, 1: 5}, {0: None, 1: None})
    assert caught.ready({0, 1}) == {0}  # partition 1: its 5 records come first
    caught.processed(1, 4)
    assert caught.ready({0, 1}) == {0, 1}


def test_a_new_assignment_waits_again() -> None:
    caught = CaughtUp()
    caught.assigned({0: 10}, {0: 10})
    assert caught.ready({0}) == {0}
    caught.forget()
    assert caught.ready({0}) == set() and caught.unknown({0}) == {0}
    caught.processed(0, 30)  # processed after the assignment, before its end was noted
    caught.assigned({0: 25}, {0: 12})
    assert caught.ready({0}) == {0}


@given(
    end=st.integers(min_value=0, max_value=50),
    committed=st.one_of(st.none(), st.integers(min_value=0, max_value=60)),
    processed=st.lists(st.integers(min_value=0, max_value=80), max_size=20),
)
def test_ready_exactly_when_the_intake_end_is_reached(
    end: int, committed: int | None, processed: list[int]
) -> None:
    caught = CaughtUp()
    caught.assigned({3: end}, {3: committed})
    for offset in processed:
        caught.processed(3, offset)
    nothing_to_wait = end == 0 or (committed is not None and committed >= end)
    reached = any(o >= end - 1 for o in processed)
    assert (caught.ready({3}) == {3}) == (nothing_to_wait or reached)

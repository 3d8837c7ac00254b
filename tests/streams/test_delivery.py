"""The input-delivery guards' bookkeeping (pure; the Kafka side is covered by
``test_rebalance_integration.py`` and ``test_restart_integration.py``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.delivery import HeldResumes, IntakeFirst, NextOffsets

INTAKE0, INTAKE1, CHANGELOG0 = ("intake", 0), ("intake", 1), ("changelog", 0)


def is_input(tp: tuple[str, int]) -> bool:
    return tp[0] != "changelog"


def test_outside_a_rebalance_every_resume_happens_at_once() -> None:
    gate: HeldResumes[tuple[str, int]] = HeldResumes()
    assert gate.resume_now([INTAKE0, CHANGELOG0], False, is_input) == {INTAKE0, CHANGELOG0}
    assert gate.release() == set()


def test_during_a_rebalance_inputs_wait_for_the_seek_and_changelogs_do_not() -> None:
    gate: HeldResumes[tuple[str, int]] = HeldResumes()
    assert gate.resume_now([INTAKE0, CHANGELOG0], True, is_input) == {CHANGELOG0}
    assert gate.resume_now([INTAKE1], True, is_input) == set()
    assert gate.release() == {INTAKE0, INTAKE1}
    assert gate.release() == set()


def test_records_in_order_are_delivered() -> None:
    offsets: NextOffsets[tuple[str, int]] = NextOffsets()
    offsets.sought(INTAKE0, 4)
    assert [offsets.check(INTAKE0, o) for o in (4, 5, 6)] == [None, None, None]


def test_a_skipped_offset_sends_the_partition_back_to_it() -> None:
    offsets: NextOffsets[tuple[str, int]] = NextOffsets()
    offsets.sought(INTAKE0, 4)
    assert offsets.check(INTAKE0, 4) is None
    assert offsets.check(INTAKE0, 7) == 5  # 5 and 6 were fetched but never delivered
    offsets.sought(INTAKE0, 5)
    assert [offsets.check(INTAKE0, o) for o in (5, 6, 7)] == [None, None, None]


def test_a_real_hole_is_let_through_the_second_time() -> None:
    offsets: NextOffsets[tuple[str, int]] = NextOffsets()
    offsets.sought(INTAKE0, 10)
    assert offsets.check(INTAKE0, 11) == 10  # offset 10 is a transaction marker, say
    offsets.sought(INTAKE0, 10)
    assert offsets.check(INTAKE0, 11) is None
    assert offsets.check(INTAKE0, 12) is None


def test_a_different_skip_from_the_same_offset_is_read_again() -> None:
    offsets: NextOffsets[tuple[str, int]] = NextOffsets()
    offsets.sought(INTAKE0, 10)
    assert offsets.check(INTAKE0, 11) == 10
    offsets.sought(INTAKE0, 10)
    assert offsets.check(INTAKE0, 14) == 10  # 11..13 were dropped this time


def test_partitions_are_checked_apart_and_unknown_ones_take_what_comes() -> None:
    offsets: NextOffsets[tuple[str, int]] = NextOffsets()
    offsets.sought(INTAKE0, 3)
    offsets.sought(INTAKE1, None)  # no committed offset yet: reading from the start
    assert offsets.check(INTAKE1, 0) is None
    assert offsets.check(INTAKE0, 5) == 3
    assert offsets.check(INTAKE1, 1) is None


def test_a_record_seen_again_after_a_seek_back_is_delivered_again() -> None:
    offsets: NextOffsets[tuple[str, int]] = NextOffsets()
    offsets.sought(INTAKE0, 0)
    assert [offsets.check(INTAKE0, o) for o in (0, 1, 2)] == [None, None, None]
    offsets.sought(INTAKE0, 1)  # the stall watch sought back
    assert [offsets.check(INTAKE0, o) for o in (1, 2, 3)] == [None, None, None]


@given(st.lists(st.integers(min_value=0, max_value=30), max_size=40))
def test_nothing_is_delivered_past_a_skip_until_the_skip_is_read(fetched: list[int]) -> None:
    """Whatever offsets a fetcher hands out (seeking back wherever the guard asks), no
    offset below the highest one delivered is left out unless the same skip was first
    sent back to be read again (met twice, it is a real hole)."""
    offsets: NextOffsets[tuple[str, int]] = NextOffsets()
    offsets.sought(INTAKE0, 0)
    delivered: list[int] = []
    holes: set[int] = set()  # the offsets of skips sent back once (met twice: a real hole)
    for offset in fetched:
        back = offsets.check(INTAKE0, offset)
        if back is None:
            delivered.append(offset)
        else:
            offsets.sought(INTAKE0, back)
            holes.update(range(back, offset))
    seen = set(delivered)
    for offset in range(max(seen, default=-1)):
        assert offset in seen or offset in holes


COMMANDS0, COMMANDS1 = ("commands", 0), ("commands", 1)
PAIRS = {COMMANDS0: INTAKE0, COMMANDS1: INTAKE1}


def test_commands_wait_until_their_intake_is_read_to_its_end() -> None:
    first: IntakeFirst[tuple[str, int]] = IntakeFirst()
    assert first.hold(PAIRS, {INTAKE0: 10, INTAKE1: 5}, {INTAKE0: 7, INTAKE1: 5}) == {COMMANDS1}
    assert first.waiting(COMMANDS0) and not first.waiting(COMMANDS1)
    assert first.delivered(INTAKE0, 7) == set()
    assert first.delivered(INTAKE1, 5) == set()  # another partition's intake frees nothing
    assert first.delivered(INTAKE0, 9) == {COMMANDS0}
    assert not first.waiting(COMMANDS0)
    assert first.delivered(INTAKE0, 10) == set()  # released once


def test_an_empty_or_unknown_intake_holds_nothing_and_an_unread_one_does() -> None:
    first: IntakeFirst[tuple[str, int]] = IntakeFirst()
    assert first.hold(PAIRS, {INTAKE0: 0}, {}) == {COMMANDS0, COMMANDS1}
    # no committed offset yet (start None): the whole log comes first
    assert first.hold(PAIRS, {INTAKE0: 3, INTAKE1: 0}, {INTAKE0: None}) == {COMMANDS1}
    assert first.waiting(COMMANDS0)


def test_a_new_hold_replaces_the_old_one() -> None:
    first: IntakeFirst[tuple[str, int]] = IntakeFirst()
    first.hold(PAIRS, {INTAKE0: 10, INTAKE1: 10}, {INTAKE0: 0, INTAKE1: 0})
    assert first.hold({COMMANDS1: INTAKE1}, {INTAKE1: 4}, {INTAKE1: 4}) == {COMMANDS1}
    assert not first.waiting(COMMANDS0) and first.delivered(INTAKE0, 9) == set()


@given(
    end=st.integers(min_value=0, max_value=50),
    start=st.one_of(st.none(), st.integers(min_value=0, max_value=60)),
    delivered=st.lists(st.integers(min_value=0, max_value=80), max_size=30),
)
def test_commands_are_never_released_before_the_intake_end(
    end: int, start: int | None, delivered: list[int]
) -> None:
    """Whatever is delivered, the commands run only once intake reached the end it had,
    and always do once it did."""
    first: IntakeFirst[tuple[str, int]] = IntakeFirst()
    free = first.hold({COMMANDS0: INTAKE0}, {INTAKE0: end}, {INTAKE0: start})
    caught_up = end == 0 or (start is not None and start >= end)
    assert (free == {COMMANDS0}) == caught_up
    seen = -1
    for offset in sorted(delivered):
        released = first.delivered(INTAKE0, offset)
        if released:
            assert offset >= end - 1 and seen < end - 1 and not caught_up
        seen = max(seen, offset)
    assert first.waiting(COMMANDS0) == (not caught_up and seen < end - 1)

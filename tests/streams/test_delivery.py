"""The input-delivery guards' bookkeeping (pure; the Kafka side is covered by
``test_rebalance_integration.py`` and ``test_restart_integration.py``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.delivery import AfterIntake, HeldResumes, NextOffsets, expected_after_seek

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


def test_a_commands_partition_resumes_once_its_intake_backlog_is_processed() -> None:
    behind = {0}  # intake partitions with a backlog still to process
    gate: AfterIntake[tuple[str, int]] = AfterIntake(
        lambda tp: tp[0] == "commands" and tp[1] in behind
    )
    commands0, commands1 = ("commands", 0), ("commands", 1)
    assert gate.resume_now([INTAKE0, commands0, commands1]) == {INTAKE0, commands1}
    assert commands0 in gate and commands1 not in gate
    assert gate.release(owned={INTAKE0, commands0}) == set()  # still behind
    behind.clear()
    assert gate.release(owned={INTAKE0, commands0}) == {commands0}
    assert commands0 not in gate
    assert gate.release(owned={INTAKE0, commands0}) == set()  # resumed once


def test_a_waiting_partition_that_is_revoked_is_dropped() -> None:
    behind = {0}
    gate: AfterIntake[tuple[str, int]] = AfterIntake(lambda tp: tp[1] in behind)
    assert gate.resume_now([("commands", 0)]) == set()
    assert gate.release(owned=set()) == set()  # revoked meanwhile
    behind.clear()
    assert gate.release(owned={("commands", 0)}) == set()  # not resumed: not asked again


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


def test_after_an_assignment_a_partition_without_a_commit_expects_its_log_start() -> None:
    """A new group's partition starts at its log start (``auto_offset_reset="earliest"``):
    a first delivery past it is a skip, not a starting point."""
    commands0 = ("matters.commands", 0)
    expected = expected_after_seek({INTAKE0: None, commands0: 42}, {INTAKE0: 0})
    assert expected == {INTAKE0: 0, commands0: 42}
    offsets: NextOffsets[tuple[str, int]] = NextOffsets()
    for tp, offset in expected.items():
        offsets.sought(tp, offset)
    assert offsets.check(INTAKE0, 1689) == 0  # the first 1,689 records are read again
    assert expected_after_seek({INTAKE0: None}, {}) == {INTAKE0: None}  # log start unknown

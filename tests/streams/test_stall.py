"""The pure part of the stalled-partition watch (streams/stall.py)."""

from __future__ import annotations

from streams.stall import StallWatch

TP = ("t.matters.intake", 0)
OTHER = ("t.matters.intake", 1)


def test_a_committed_offset_stuck_below_the_log_end_is_reported_after_the_delay() -> None:
    watch = StallWatch(after=15.0)
    assert watch.stalled(100.0, {TP: 94}, {TP: 43}) == []
    assert watch.stalled(110.0, {TP: 94}, {TP: 43}) == []
    assert watch.stalled(115.0, {TP: 94}, {TP: 43}) == [TP]
    # reported once per delay, not at every check
    assert watch.stalled(116.0, {TP: 94}, {TP: 43}) == []
    assert watch.stalled(130.0, {TP: 94}, {TP: 43}) == [TP]


def test_a_moving_committed_offset_restarts_the_clock() -> None:
    watch = StallWatch(after=15.0)
    watch.stalled(100.0, {TP: 94}, {TP: 43})
    assert watch.stalled(114.0, {TP: 94}, {TP: 50}) == []
    assert watch.stalled(128.0, {TP: 94}, {TP: 50}) == []
    assert watch.stalled(129.0, {TP: 94}, {TP: 50}) == [TP]


def test_a_caught_up_partition_is_never_stalled() -> None:
    watch = StallWatch(after=1.0)
    for now in (0.0, 5.0, 50.0):
        assert watch.stalled(now, {TP: 94, OTHER: 0}, {TP: 94, OTHER: None}) == []


def test_nothing_committed_yet_counts_from_offset_zero() -> None:
    watch = StallWatch(after=10.0)
    watch.stalled(0.0, {TP: 5}, {TP: None})
    assert watch.stalled(10.0, {TP: 5}, {TP: None}) == [TP]


def test_only_the_stuck_partition_is_reported_and_forget_clears_the_state() -> None:
    watch = StallWatch(after=10.0)
    watch.stalled(0.0, {TP: 94, OTHER: 30}, {TP: 43, OTHER: 10})
    assert watch.stalled(10.0, {TP: 94, OTHER: 30}, {TP: 43, OTHER: 20}) == [TP]
    watch.forget()
    assert watch.stalled(20.0, {TP: 94}, {TP: 43}) == []  # the clock starts again
    assert watch.stalled(30.0, {TP: 94}, {TP: 43}) == [TP]


def test_a_partition_left_out_of_a_check_starts_its_clock_again() -> None:
    """A partition held back on purpose (not watched for a while) is not reported the
    moment it is watched again."""
    watch = StallWatch(after=10.0)
    watch.stalled(0.0, {TP: 94, OTHER: 9}, {TP: 43, OTHER: 2})
    watch.stalled(5.0, {OTHER: 9}, {OTHER: 2})  # TP held back
    assert watch.stalled(12.0, {TP: 94, OTHER: 9}, {TP: 43, OTHER: 2}) == [OTHER]
    assert watch.stalled(21.0, {TP: 94}, {TP: 43}) == []
    assert watch.stalled(22.0, {TP: 94}, {TP: 43}) == [TP]

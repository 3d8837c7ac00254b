"""The pure part of the stalled-partition watch (streams/stall.py)."""

from __future__ import annotations

from streams.stall import StallWatch

TP = ("t.matters.intake", 0)
OTHER = ("t.matters.intake", 1)


def test_a_partition_with_waiting_records_and_no_progress_is_reported_after_the_delay() -> None:
    watch = StallWatch(after=15.0)
    assert watch.stalled(100.0, {TP: 94}, {TP: 43}) == []
    assert watch.stalled(110.0, {TP: 94}, {TP: 43}) == []
    assert watch.stalled(115.0, {TP: 94}, {TP: 43}) == [TP]
    # reported once per delay, not at every check
    assert watch.stalled(116.0, {TP: 94}, {TP: 43}) == []
    assert watch.stalled(130.0, {TP: 94}, {TP: 43}) == [TP]


def test_progress_restarts_the_clock() -> None:
    watch = StallWatch(after=15.0)
    watch.stalled(100.0, {TP: 94}, {TP: 43})
    watch.handled({TP: 50})
    assert watch.stalled(114.0, {TP: 94}, {TP: 43}) == []
    assert watch.stalled(128.0, {TP: 94}, {TP: 43}) == []
    assert watch.stalled(129.0, {TP: 94}, {TP: 43}) == [TP]


def test_committed_progress_counts_too_and_older_handled_offsets_are_ignored() -> None:
    watch = StallWatch(after=10.0)
    watch.handled({TP: 60})
    watch.handled({TP: 20})  # an older batch reported late: the position stays at 61
    watch.stalled(0.0, {TP: 94}, {TP: 43})
    assert watch.stalled(5.0, {TP: 94}, {TP: 70}) == []  # committed moved to 70
    assert watch.stalled(14.0, {TP: 94}, {TP: 70}) == []
    assert watch.stalled(15.0, {TP: 94}, {TP: 70}) == [TP]


def test_a_caught_up_partition_is_never_stalled() -> None:
    watch = StallWatch(after=1.0)
    watch.handled({TP: 93})
    for now in (0.0, 5.0, 50.0):
        assert watch.stalled(now, {TP: 94, OTHER: 0}, {TP: 43, OTHER: None}) == []


def test_only_the_stuck_partition_is_reported_and_forget_clears_the_state() -> None:
    watch = StallWatch(after=10.0)
    watch.stalled(0.0, {TP: 94, OTHER: 30}, {TP: 43, OTHER: 10})
    watch.handled({OTHER: 20})
    assert watch.stalled(10.0, {TP: 94, OTHER: 30}, {TP: 43, OTHER: 10}) == [TP]
    watch.forget()
    assert watch.stalled(20.0, {TP: 94}, {TP: 43}) == []  # the clock starts again
    assert watch.stalled(30.0, {TP: 94}, {TP: 43}) == [TP]

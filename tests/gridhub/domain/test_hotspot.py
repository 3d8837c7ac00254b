"""Hotspots: N matters of one category in one grid within a window, alerted once per window."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from gridhub.domain.hotspot import HotspotDetector

from .support import T0


def test_alert_at_threshold_once_per_window() -> None:
    d = HotspotDetector(threshold=3, window=timedelta(hours=1))
    assert d.observe("G1", "ROAD", T0) is None
    assert d.observe("G1", "ROAD", T0 + timedelta(minutes=10)) is None
    alert = d.observe("G1", "ROAD", T0 + timedelta(minutes=20), matter_id="M3")
    assert alert is not None
    assert (alert.reason, alert.grid, alert.category, alert.matter_id) == (
        "hotspot",
        "G1",
        "ROAD",
        "M3",
    )
    assert alert.to_dict()["type"] == "grid_alert"
    assert d.observe("G1", "ROAD", T0 + timedelta(minutes=30)) is None  # same window
    assert d.count("G1", "ROAD") == 4
    # 81 minutes in, only T0+30 and T0+81 are within the last hour: below the threshold.
    assert d.observe("G1", "ROAD", T0 + timedelta(minutes=81)) is None
    assert d.count("G1", "ROAD") == 2


def test_keys_are_separate_and_old_matters_expire() -> None:
    d = HotspotDetector(threshold=2, window=timedelta(hours=1))
    assert d.observe("G1", "ROAD", T0) is None
    assert d.observe("G2", "ROAD", T0) is None
    assert d.observe("G1", "WATER", T0) is None
    assert d.observe("G1", "ROAD", T0 + timedelta(hours=2)) is None  # first one expired
    assert d.observe("G1", "ROAD", T0 + timedelta(hours=2, minutes=5)) is not None


def test_realerts_after_a_window() -> None:
    d = HotspotDetector(threshold=2, window=timedelta(hours=1))
    d.observe("G1", "ROAD", T0)
    assert d.observe("G1", "ROAD", T0 + timedelta(minutes=1)) is not None
    assert d.observe("G1", "ROAD", T0 + timedelta(minutes=30)) is None
    assert d.observe("G1", "ROAD", T0 + timedelta(minutes=61)) is not None


def test_what_is_saved_is_each_pair_observed_since_the_last_take() -> None:
    d = HotspotDetector(threshold=2, window=timedelta(minutes=30))
    d.observe("G1", "ROAD", T0)
    d.observe("G2", "WATER", T0)
    assert set(d.take_touched()) == {("G1", "ROAD"), ("G2", "WATER")}
    assert d.take_touched() == {}  # nothing observed since
    d.observe("G1", "ROAD", T0 + timedelta(minutes=1))  # the hotspot
    assert d.take_touched() == {
        ("G1", "ROAD"): {
            "seen": [T0.isoformat(), (T0 + timedelta(minutes=1)).isoformat()],
            "alerted": (T0 + timedelta(minutes=1)).isoformat(),
        }
    }


def test_a_restarted_detector_goes_on_from_the_saved_pairs() -> None:
    d = HotspotDetector(threshold=3, window=timedelta(minutes=30))
    d.observe("G1", "ROAD", T0)
    d.observe("G1", "ROAD", T0 + timedelta(minutes=1))
    d.observe("G2", "ROAD", T0)
    d.observe("G2", "ROAD", T0 + timedelta(minutes=1))
    assert d.observe("G2", "ROAD", T0 + timedelta(minutes=2)) is not None
    saved = {key: entry for key, entry in d.take_touched().items()}
    asked: list[tuple[str, str]] = []

    def load(grid: str, category: str) -> dict[str, object] | None:
        asked.append((grid, category))
        return saved.get((grid, category))

    again = HotspotDetector(threshold=3, window=timedelta(minutes=30), load=load)
    assert again.observe("G1", "ROAD", T0 + timedelta(minutes=3)) is not None  # 2 saved + 1
    assert again.observe("G2", "ROAD", T0 + timedelta(minutes=3)) is None  # alerted already
    assert again.observe("G1", "ROAD", T0 + timedelta(minutes=4)) is None
    assert again.observe("G3", "ROAD", T0) is None  # nothing saved: starts at one
    assert asked == [("G1", "ROAD"), ("G2", "ROAD"), ("G3", "ROAD")]  # once per pair
    assert again.count("G1", "ROAD") == 4


def test_only_the_newest_threshold_times_are_saved() -> None:
    d = HotspotDetector(threshold=3, window=timedelta(minutes=30))
    times = [T0 + timedelta(minutes=m) for m in (0, 5, 29, 33)]  # T0 expires at T0+33
    for t in times:
        d.observe("G1", "ROAD", t)
    assert d.take_touched()[("G1", "ROAD")]["seen"] == [t.isoformat() for t in times[1:]]


@given(
    threshold=st.integers(1, 4),
    minutes=st.lists(st.integers(0, 240), min_size=1, max_size=30),
    cut=st.integers(0, 30),
)
def test_a_detector_restored_from_its_saved_pairs_decides_as_the_one_that_saved_them(
    threshold: int, minutes: list[int], cut: int
) -> None:
    """Any observations (out of order too), a restart after any prefix of them: the same
    alerts as a detector that never restarted."""
    window = timedelta(minutes=45)
    times = [T0 + timedelta(minutes=m) for m in minutes]
    full = HotspotDetector(threshold, window)
    first = HotspotDetector(threshold, window)
    decided = [full.observe("G1", "ROAD", t) is not None for t in times]
    for t in times[:cut]:
        first.observe("G1", "ROAD", t)
    saved = first.take_touched()
    again = HotspotDetector(threshold, window, load=lambda g, c: saved.get((g, c)))
    assert [again.observe("G1", "ROAD", t) is not None for t in times[cut:]] == decided[cut:]

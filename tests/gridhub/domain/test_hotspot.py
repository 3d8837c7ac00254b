"""Hotspots: N matters of one category in one grid within a window, alerted once per window."""

from __future__ import annotations

from datetime import timedelta

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

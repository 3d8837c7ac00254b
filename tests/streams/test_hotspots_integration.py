"""The city-wide hotspot count in real Redis decides as the domain's rule does."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from gridhub.domain.hotspot import HotspotDetector
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from streams.hotspots import HotspotCounter
from streams.processor import Sighting

pytestmark = pytest.mark.integration

T0 = datetime(2026, 2, 16, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=45)


def sighting(grid: str, category: str, at: datetime, matter_id: str) -> Sighting:
    return Sighting(matter_id, grid, category, at, "T01", "V001", "intake:0", 0)


async def count_in_redis(
    settings: Settings, threshold: int, batches: list[list[Sighting]]
) -> list[str]:
    """The matter ids whose sightings raised an alert, fed batch by batch."""
    client = aioredis.from_url(str(settings.redis_url))
    try:
        counter = HotspotCounter(
            client, RedisKeys(settings.redis_prefix), threshold, int(WINDOW.total_seconds())
        )
        raised: list[str] = []
        for batch in batches:
            raised += [s.matter_id for s, _ in await counter.observe(batch)]
        return raised
    finally:
        await client.aclose()


@hypothesis_settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    threshold=st.integers(1, 4),
    sightings=st.lists(
        # quarter hours: a 45-minute window's edges are met exactly, often
        st.tuples(st.integers(0, 16).map(lambda q: 15 * q), st.sampled_from(["ROAD", "WATER"])),
        max_size=30,
    ),
    batch_size=st.integers(1, 8),
)
def test_redis_raises_the_alerts_the_domain_rule_raises(
    settings: Settings, threshold: int, sightings: list[tuple[int, str]], batch_size: int
) -> None:
    """Any sightings (out of time order too, two categories of one grid, cut into batches
    of any size): the same matters raise alerts as with :class:`HotspotDetector`."""
    grid = f"G{uuid.uuid4().hex[:8]}"  # a fresh pair per example
    detector = HotspotDetector(threshold, WINDOW)
    listed = [
        sighting(grid, category, T0 + timedelta(minutes=m), f"M{i}")
        for i, (m, category) in enumerate(sightings)
    ]
    expected = [
        s.matter_id
        for s in listed
        if detector.observe(s.grid, s.category, s.at, s.matter_id) is not None
    ]
    batches = [listed[i : i + batch_size] for i in range(0, len(listed), batch_size)]
    assert asyncio.run(count_in_redis(settings, threshold, batches)) == expected


async def test_a_replayed_batch_raises_only_the_alert_it_held(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    """A worker killed after counting a batch replays it: its matters are counted once,
    the matter holding the alert raises it again (same alert, consumers keep one), and
    no other matter raises one; the keys expire two windows after the last sighting."""
    keys = RedisKeys(settings.redis_prefix)
    counter = HotspotCounter(redis_client, keys, threshold=2, window_seconds=3600)
    batch = [sighting("G1", "ROAD", T0 + timedelta(minutes=m), f"M{m}") for m in range(3)]
    first = await counter.observe(batch)
    again = await counter.observe(batch)
    assert [s.matter_id for s, _ in first] == [s.matter_id for s, _ in again] == ["M1"]
    [(_, alert)] = first
    assert (alert.reason, alert.grid, alert.category, alert.matter_id) == (
        "hotspot",
        "G1",
        "ROAD",
        "M1",
    )
    assert alert.detail == "2 matters of ROAD in grid G1 within 1:00:00"
    assert await redis_client.zcard(keys.hotspot("G1", "ROAD")) == 3
    assert 7000 < await redis_client.ttl(keys.hotspot("G1", "ROAD")) <= 7200
    assert 7000 < await redis_client.ttl(keys.hotspot_alerted("G1", "ROAD")) <= 7200
    assert await counter.observe([]) == []

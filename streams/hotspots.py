"""Hotspot counting for the whole city: one Redis script per batch.

A hotspot is N matters of one category in one grid within a window
(:mod:`gridhub.domain.hotspot` states the rule). Matters are partitioned by matter id, so
the matters of one grid reach every partition, and a count kept per partition misses
hotspots: with P partitions up to P × (N − 1) matters of one pair could arrive without an
alert. The counts must meet in one place. Two ways were weighed:

* a Kafka repartition (sightings re-keyed by grid and category to a topic, counted by a
  second agent with its own table): a second consumer group's worth of machinery (input
  guards, catch-up, recovery) and one more record per matter through the broker, for a
  count of a few integers;
* one sorted set per (grid, category) in Redis, which every batch already writes: the
  count is atomic across workers (a Lua script), costs one round trip per batch, and is
  kept durable with the deadline index.

The second is used. The script applies the domain rule to each sighting in batch order:
``ZADD`` the matter id with its receive time, drop members at or before ``at - window``,
count; at the threshold, raise an alert unless the pair's last alert is less than a window
older. It is idempotent on replay: a matter id is one member however often it is added,
and a replayed sighting of the matter that holds the pair's last alert raises that alert
again (same id, ``<matter>:hotspot``; consumers dedupe by id), so a worker killed between
the script and the alert's ack loses no alert. Keys expire two windows after their last
sighting.

Hotspot alerts go to ``alerts`` (the hubs' live feed, supervisors) and are not kept in
the matter's projected alerts: which matter of a pair reaches the threshold first depends
on the order in which workers processed partitions, which Kafka does not record, so a
rebuild from Kafka could not reproduce that projection, and a replay after a crash
re-raises the alert with the count of that moment.

    counter = HotspotCounter(redis, RedisKeys(prefix), threshold=5, window_seconds=86400)
    found = await counter.observe(result.sightings)   # [(sighting, GridAlert), ...]
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import redis.asyncio as aioredis

from gridhub.domain.events import GridAlert
from gridhub.domain.hotspot import hotspot_alert
from gridhub.keys import RedisKeys
from streams.processor import Sighting

# KEYS: per sighting, its pair's sorted set and last-alert string.
# ARGV: threshold, window ms, ttl s, then per sighting its matter id and epoch ms.
# Returns per sighting the pair's count when it raises (or re-raises) the alert, else 0.
_OBSERVE = """
local threshold, window, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local out = {}
for i = 1, #KEYS / 2 do
  local seen, alerted = KEYS[2 * i - 1], KEYS[2 * i]
  local member, at_text = ARGV[2 * i + 2], ARGV[2 * i + 3]
  local at = tonumber(at_text)
  redis.call('ZADD', seen, at_text, member)
  redis.call('ZREMRANGEBYSCORE', seen, '-inf', at - window)
  redis.call('EXPIRE', seen, ttl)
  local count = redis.call('ZCARD', seen)
  local raised = 0
  if count >= threshold then
    local last = redis.call('GET', alerted)
    local holder, last_at = nil, nil
    if last then
      local bar = string.find(last, '|', 1, true)
      holder, last_at = string.sub(last, 1, bar - 1), tonumber(string.sub(last, bar + 1))
    end
    if holder == member then
      raised = count
    elseif last_at == nil or at - last_at >= window then
      redis.call('SET', alerted, member .. '|' .. at_text, 'EX', ttl)
      raised = count
    end
  end
  out[i] = raised
end
return out
"""


class HotspotCounter:
    """The city-wide hotspot counts in Redis (see the module doc)."""

    def __init__(
        self, redis: aioredis.Redis, keys: RedisKeys, threshold: int, window_seconds: int
    ) -> None:
        self._keys = keys
        self.threshold = max(1, threshold)
        self.window = timedelta(seconds=window_seconds)
        self._window_ms = window_seconds * 1000
        self._ttl = 2 * window_seconds
        self._observe = redis.register_script(_OBSERVE)

    async def observe(self, sightings: Sequence[Sighting]) -> list[tuple[Sighting, GridAlert]]:
        """Count ``sightings`` in order, in one atomic call; return those that raise a
        hotspot alert, each with its alert."""
        if not sightings:
            return []
        keys: list[str] = []
        args: list[str | int] = [self.threshold, self._window_ms, self._ttl]
        for s in sightings:
            keys += [
                self._keys.hotspot(s.grid, s.category),
                self._keys.hotspot_alerted(s.grid, s.category),
            ]
            args += [s.matter_id, round(s.at.timestamp() * 1000)]
        counts = await self._observe(keys=keys, args=args)
        return [
            (s, hotspot_alert(s.grid, s.category, s.at, s.matter_id, int(n), self.window))
            for s, n in zip(sightings, counts, strict=True)
            if int(n) > 0
        ]

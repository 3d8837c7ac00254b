"""Deadline firing at scale: a Redis deadline index per partition, claimed atomically.

Why not ``app.timer`` scanning a table: with 1,000,000 open deadlines a scan costs O(n)
per tick, so either the tick is slow (late warnings) or the CPU burns. Here each partition
of ``matters.commands`` has a Redis sorted set (member = warning id, score = due time in
epoch seconds). Finding what is due is ``ZRANGEBYSCORE -inf now LIMIT k``: O(log n + k),
independent of how many deadlines are open. Redis keeps the index durable (AOF) and shared,
so it survives a worker restart, and because it is keyed by partition, the worker that
owns a partition after a rebalance simply starts claiming that partition's set.

Firing is at-least-once, and the domain makes it exactly-once:

1. :meth:`DeadlineIndex.claim_due` moves due warnings into an in-flight set with a lease
   (one Lua script, so two workers never claim the same entry at the same moment).
2. :class:`DeadlineFirer` sends their ticks to the same partition of ``matters.commands``
   (``deadline.ticks`` records of up to :data:`TICKS_PER_RECORD` warning ids, each standing
   for one ``DeadlineDue``; see :mod:`gridhub.commands_topic`) and waits for Kafka's ack.
3. Only then it acks the claim. If the worker dies in between, the lease expires and the
   warning is claimed again: a duplicate command, never a lost one.
4. The matter's single writer applies ``DeadlineDue`` idempotently: a warning id already
   in ``fired_warnings`` or of a stale deadline generation produces no event. So each
   warning reaches ``alerts`` once per matter state, however often its tick arrives.

Stale entries (a deadline moved by an extension or a hand-over) are cancelled by the
processor when it can, and are harmless when it cannot: the generation check drops them.

    index = DeadlineIndex(redis, RedisKeys(settings.redis_prefix))
    await index.schedule(partition, pending_timers(state, ctx))
    firer = DeadlineFirer(index, send=send_rows, partitions=lambda: {0, 1},
                          encode=ticks_record)   # send_rows([(record, partition), ...])
    await firer.run()
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime

import redis.asyncio as aioredis
from prometheus_client import Counter, Gauge, Histogram

from gridhub.cloudevents import KafkaRecord
from gridhub.domain.sla import ScheduledWarning, parse_warning_id
from gridhub.keys import RedisKeys

log = logging.getLogger(__name__)

FIRED = Counter("gridhub_deadline_ticks_total", "timer ticks (warnings) sent by the firer")
REFIRED = Counter("gridhub_deadline_reclaims_total", "claims re-taken after an expired lease")
CLAIM_LAG = Histogram(
    "gridhub_deadline_claim_lag_seconds",
    "time between a warning's due time and its claim by the firer",
    buckets=(0.01, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 30),
)
OPEN = Gauge("gridhub_deadlines_open", "deadline index size per partition", ["partition"])

# KEYS: index, inflight. ARGV: now, limit, lease_until.
# Takes due entries from the index and expired leases from the in-flight set, moves them
# all into the in-flight set with a new lease, and returns [id, due, id, due, ...].
_CLAIM = """
local out = {}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[2])
for i = 1, #due, 2 do
  redis.call('ZADD', KEYS[2], ARGV[3], due[i])
  redis.call('ZREM', KEYS[1], due[i])
  out[#out + 1] = due[i]
  out[#out + 1] = due[i + 1]
end
local left = tonumber(ARGV[2]) - #out / 2
if left > 0 then
  local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, left)
  for i = 1, #stale do
    redis.call('ZADD', KEYS[2], ARGV[3], stale[i])
    out[#out + 1] = stale[i]
    out[#out + 1] = '-1'
  end
end
return out
"""


class DeadlineIndex:
    """The per-partition deadline index in Redis. All methods are idempotent."""

    def __init__(self, redis: aioredis.Redis, keys: RedisKeys, lease_seconds: float = 10.0):
        self._redis = redis
        self._keys = keys
        self._lease = lease_seconds
        self._claim = redis.register_script(_CLAIM)

    async def schedule(self, partition: int, timers: Sequence[ScheduledWarning]) -> None:
        """Add (or move) warnings to ``partition``'s index, due at their ``due_at``."""
        if timers:
            await self._redis.zadd(
                self._keys.deadlines(partition),
                {t.warning_id: t.due_at.timestamp() for t in timers},
            )

    async def cancel(self, partition: int, warning_ids: Sequence[str]) -> None:
        """Drop warnings that will never be needed (their deadline moved or was met)."""
        if warning_ids:
            await self._redis.zrem(self._keys.deadlines(partition), *warning_ids)

    async def claim_due(
        self, partition: int, now: float, limit: int = 2000
    ) -> list[tuple[str, float | None]]:
        """Claim up to ``limit`` due warnings (and expired leases) of ``partition``.

        Returns (warning id, due epoch seconds) pairs; the due time is None for a re-claim.
        The caller must :meth:`ack` them once their commands are durably in Kafka.
        """
        raw = await self._claim(
            keys=[self._keys.deadlines(partition), self._keys.deadlines_inflight(partition)],
            args=[now, limit, now + self._lease],
        )
        out: list[tuple[str, float | None]] = []
        for i in range(0, len(raw), 2):
            wid = raw[i].decode() if isinstance(raw[i], bytes) else str(raw[i])
            due = float(raw[i + 1])
            out.append((wid, None if due < 0 else due))
        return out

    async def ack(self, partition: int, warning_ids: Sequence[str]) -> None:
        """Forget claimed warnings whose commands Kafka has acknowledged."""
        if warning_ids:
            await self._redis.zrem(self._keys.deadlines_inflight(partition), *warning_ids)

    async def size(self, partition: int) -> int:
        """How many deadlines of ``partition`` are waiting (not yet claimed)."""
        return int(await self._redis.zcard(self._keys.deadlines(partition)))


#: warning ids per ``deadline.ticks`` record: a wave of 1,500 is 30 records, and a worker
#: batch of 2,000 records stays within 100,000 ticks
TICKS_PER_RECORD = 50


class DeadlineFirer:
    """The loop that turns due deadlines into timer ticks, per owned partition.

    ``send`` publishes (record, partition) rows to ``matters.commands`` and returns once
    Kafka acknowledged them; ``partitions`` says which partitions this worker owns right
    now; ``encode`` turns warning ids and the firing time into one record
    (:func:`gridhub.commands_topic.ticks_record`, the one command codec of the project).
    """

    def __init__(
        self,
        index: DeadlineIndex,
        send: Callable[[list[tuple[KafkaRecord, int]]], Awaitable[None]],
        partitions: Callable[[], set[int]],
        encode: Callable[[Sequence[str], datetime], KafkaRecord],
        tick_seconds: float = 0.05,
        batch: int = 2000,
    ) -> None:
        self._index = index
        self._send = send
        self._partitions = partitions
        self._encode = encode
        self._tick = tick_seconds
        self._batch = batch

    async def fire(self, partitions: Iterable[int]) -> dict[int, int]:
        """Claim the due warnings of ``partitions``, send all their ticks in one publish (a
        wave of warnings falling due together reaches the worker together, in one batch) and
        ack them; returns how many were claimed per partition."""
        now = time.time()
        parts = sorted(partitions)
        claims = await asyncio.gather(*(self._index.claim_due(p, now, self._batch) for p in parts))
        at = datetime.fromtimestamp(now, UTC)
        rows: list[tuple[KafkaRecord, int]] = []
        fired = 0
        for partition, claimed in zip(parts, claims, strict=True):
            ids: list[str] = []
            for wid, due in claimed:
                try:
                    parse_warning_id(wid)
                except ValueError:
                    log.error(
                        "dropping malformed deadline entry %r in partition %d", wid, partition
                    )
                    continue
                ids.append(wid)
                if due is None:
                    REFIRED.inc()
                else:
                    CLAIM_LAG.observe(max(0.0, now - due))
            for start in range(0, len(ids), TICKS_PER_RECORD):
                rows.append((self._encode(ids[start : start + TICKS_PER_RECORD], at), partition))
            fired += len(ids)
        if rows:
            await self._send(rows)
        await asyncio.gather(
            *(
                self._index.ack(p, [wid for wid, _ in claimed])
                for p, claimed in zip(parts, claims, strict=True)
                if claimed
            )
        )
        FIRED.inc(fired)
        return {p: len(claimed) for p, claimed in zip(parts, claims, strict=True)}

    async def fire_partition(self, partition: int) -> int:
        """:meth:`fire` for one partition; returns how many were claimed."""
        return (await self.fire([partition]))[partition]

    async def run(self) -> None:
        """Fire due deadlines until cancelled; a full batch is drained without waiting."""
        while True:
            try:
                counts = (await self.fire(self._partitions())).values()
            except asyncio.CancelledError:
                raise
            except Exception:  # Kafka or Redis hiccup: the claims' leases make it safe to retry
                log.exception("deadline firing failed; retrying")
                await asyncio.sleep(1.0)
                continue
            if not any(c >= self._batch for c in counts):
                await asyncio.sleep(self._tick)

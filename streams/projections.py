"""Redis projections of a batch, written in ONE MULTI/EXEC pipeline per batch.

What is written (key names in :class:`gridhub.keys.RedisKeys`):

* per matter changed in the batch: the MatterView (``matter``), the reporter's contact
  (``contact``, on acceptance), the department queues (``dept_queue``, scored by that
  department's deadline) and the hubs' open sets (``hub_open`` of the city, the township and
  the village of its grid — what each hub may see — scored by the resolve deadline); closed
  or merged matters leave them; the matter's alerts whose deadline stopped running leave
  ``warnings``;
* per input record: the events appended to the ``timeline``, the KPI counters
  (``kpi(dimension, code, YYYYMMDD)`` and the month ``YYYYMM``, dimensions city, township,
  village, category and each department involved; counters from ``kpi_deltas``), new
  alerts added to ``warnings`` and the CommandResult pushed to ``command_result``.

Exactly once: the per-record writes are not idempotent (HINCRBY, RPUSH), so the pipeline
also records the highest input offset per ``topic:partition`` it covers
(``streams_offsets``); a record replayed after a crash, at or below that offset, is not
projected again. Everything per matter is idempotent (SET, ZADD, ZREM).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

import redis.asyncio as aioredis

from gridhub.domain.calendar import SHANGHAI
from gridhub.domain.context import Context
from gridhub.domain.kpis import kpi_deltas
from gridhub.domain.matter import Matter
from gridhub.keys import RedisKeys
from streams import codec
from streams.processor import BatchResult, MatterWork
from streams.views import running_deadlines

# KEYS: warnings zset, the matter's alert hash. ARGV[1]: "1" if the matter is open, then the
# field prefixes ("w|kind|generation|") of deadlines still running. Removes every other alert.
_PRUNE = """
local open = ARGV[1] == '1'
local keep = {}
for i = 2, #ARGV do keep[ARGV[i]] = true end
local fields = redis.call('HGETALL', KEYS[2])
for i = 1, #fields, 2 do
  local f = fields[i]
  local stay
  if string.sub(f, 1, 2) == 'g|' then
    stay = open
  else
    stay = open and keep[string.match(f, '^(.*|)[^|]*$')] == true
  end
  if not stay then
    redis.call('ZREM', KEYS[1], fields[i + 1])
    redis.call('HDEL', KEYS[2], f)
  end
end
return 0
"""


def local_day(moment: datetime) -> str:
    """The Asia/Shanghai day ``YYYYMMDD`` of an instant (KPI buckets)."""
    return moment.astimezone(SHANGHAI).strftime("%Y%m%d")


def kpi_dimensions(matter: Matter, city_code: str) -> list[tuple[str, str]]:
    """The (dimension, code) slices an event of ``matter`` counts in."""
    dims = [
        ("city", city_code),
        ("township", matter.township),
        ("village", matter.village),
        ("category", matter.category),
    ]
    dims += [("department", d) for d in matter.departments]
    return dims


def _score(due: datetime | None, fallback: datetime) -> float:
    return (due or fallback).timestamp()


def hub_score(matter: Matter) -> float:
    """Queue score of a matter: its resolve deadline, else its earliest running deadline."""
    running = running_deadlines(matter)
    if "resolve" in running:
        return running["resolve"][0].timestamp()
    if running:
        return min(due for due, _ in running.values()).timestamp()
    return matter.accepted_at.timestamp()


def department_score(matter: Matter, department: str) -> float:
    """Queue score of ``matter`` in ``department``'s queue: that department's deadline."""
    task = matter.whistle_tasks.get(department)
    owns = matter.owner.kind == "department" and matter.owner.code == department
    summoned_only = department not in matter.co_handlers and not owns
    if task is not None and task.reported_at is None and summoned_only:
        return task.due_at.timestamp()
    return hub_score(matter)


class Projector:
    """Writes each batch's projections (see the module doc)."""

    def __init__(
        self, redis: aioredis.Redis, keys: RedisKeys, ctx: Context, result_ttl: int = 600
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.ctx = ctx
        self.result_ttl = result_ttl
        self._prune = redis.register_script(_PRUNE)

    async def applied_offsets(self, tps: Iterable[str]) -> dict[str, int]:
        """The last projected offset of each ``topic:partition`` (-1 when none)."""
        names = sorted(set(tps))
        if not names:
            return {}
        raw = await self.redis.hmget(self.keys.streams_offsets(), names)
        return {tp: int(v) if v is not None else -1 for tp, v in zip(names, raw, strict=True)}

    async def write(self, result: BatchResult, max_offsets: dict[str, int]) -> None:
        """Project ``result``; ``max_offsets`` = the highest input offset per tp of the batch."""
        applied = await self.applied_offsets(max_offsets)
        k = self.keys
        pipe = self.redis.pipeline(transaction=True)
        kpis: Counter[tuple[str, str]] = Counter()
        views: dict[str, bytes] = {}
        adds: dict[str, dict[str, float]] = {}
        removes: dict[str, list[str]] = {}
        for work in result.works.values():
            fresh = [s for s in work.steps if s.offset > applied.get(s.tp, -1)]
            for step in fresh:
                if step.after is None:
                    continue
                if step.events:
                    pipe.rpush(
                        k.timeline(work.matter_id), *(codec.event_bytes(e) for e in step.events)
                    )
                dims = kpi_dimensions(step.after, self.ctx.city.code)
                for event in step.events:
                    deltas = kpi_deltas(event)
                    if not deltas:
                        continue
                    day = local_day(event.at)
                    for dimension, code in dims:
                        for period in (day, day[:6]):
                            for name, by in deltas.items():
                                kpis[(k.kpi(dimension, code, period), name)] += by
                    if event.type == "accepted" and step.after.reporter is not None:
                        views[k.contact(work.matter_id)] = codec.dumps(step.after.reporter)
            if work.changed and work.view is not None:
                views[k.matter(work.matter_id)] = codec.dumps(work.view)
                self._queues(adds, removes, work)
        for alert in result.alerts:
            if alert.offset <= applied.get(alert.tp, -1):
                continue
            member = codec.dumps(alert.message)
            due = datetime.fromisoformat(alert.message["due_at"]).timestamp()
            pipe.zadd(k.warnings(), {member: due})
            pipe.hset(k.matter_alerts(alert.message["matter_id"]), alert.field, member)
        for work in result.works.values():
            if work.changed:
                self._prune_alerts(pipe, work)
        for (key, name), by in kpis.items():
            if by:
                pipe.hincrby(key, name, by)
        if views:
            pipe.mset(views)
        for key, members in adds.items():
            pipe.zadd(key, members)
        for key, gone in removes.items():
            pipe.zrem(key, *gone)
        for tp, offset, command_result in result.results:
            if offset <= applied.get(tp, -1):
                continue
            key = k.command_result(command_result["command_id"])
            pipe.rpush(key, codec.dumps(command_result))
            pipe.expire(key, self.result_ttl)
        newer = {tp: o for tp, o in max_offsets.items() if o > applied.get(tp, -1)}
        if newer:
            pipe.hset(k.streams_offsets(), mapping=newer)  # type: ignore[arg-type]
        await pipe.execute()

    def _queues(
        self, adds: dict[str, dict[str, float]], removes: dict[str, list[str]], work: MatterWork
    ) -> None:
        """Collect the queue and open-set changes of one matter (one ZADD/ZREM per key)."""
        k, state, before = self.keys, work.state, work.before
        assert state is not None
        hubs = [
            k.hub_open("city", self.ctx.city.code),
            k.hub_open("township", state.township),
            k.hub_open("village", state.village),
        ]
        gone = set(before.departments) if before is not None else set()
        if state.is_open:
            score = hub_score(state)
            for key in hubs:
                adds.setdefault(key, {})[state.id] = score
            for dept in state.departments:
                adds.setdefault(k.dept_queue(dept), {})[state.id] = department_score(state, dept)
            gone -= set(state.departments)
        else:
            for key in hubs:
                removes.setdefault(key, []).append(state.id)
            gone |= set(state.departments)
        for dept in gone:
            removes.setdefault(k.dept_queue(dept), []).append(state.id)

    def _prune_alerts(self, pipe: aioredis.client.Pipeline, work: MatterWork) -> None:
        state, before = work.state, work.before
        assert state is not None
        if state.is_open:
            if before is None or not before.fired_warnings:
                return  # no deadline alert to retire (grid alerts stay while open)
            running = running_deadlines(state)
            if before.is_open and running == running_deadlines(before):
                return  # no deadline stopped running
        elif before is not None and not before.is_open:
            return  # was already closed: its alerts went then
        else:
            running = {}
        tokens = [f"w|{kind}|{generation}|" for kind, (_, generation) in running.items()]
        self._prune(  # type: ignore[unused-coroutine]  # queued on the pipeline
            keys=[self.keys.warnings(), self.keys.matter_alerts(work.matter_id)],
            args=["1" if state.is_open else "0", *tokens],
            client=pipe,
        )

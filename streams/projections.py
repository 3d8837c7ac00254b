"""Redis projections of a batch, written in ONE atomic call per batch.

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

Exactly once: the per-record writes are not idempotent (HINCRBY, RPUSH), so the same call
also records the highest input offset per ``topic:partition`` it covers
(``streams_offsets``); a record replayed after a crash, at or below that offset, is not
projected again. Everything per matter is idempotent (SET, ZADD, ZREM).

The call: one Lua script (:data:`_APPLY`, atomic like MULTI/EXEC) whose single argument is
the JSON of every write of the batch. A MULTI/EXEC of the same writes cost ~100–160 µs of
worker CPU per matter in redis-py (one packed command and two parsed replies, QUEUED and
the result, per write, in pure Python) plus ~40–60 µs for the deadline index's ZADD;
building the lists and one ``orjson.dumps`` costs a fraction of that. The batch's
deadline-index changes go in a second call of the same script
(:meth:`Projector.write_timers`), made once the batch's outputs are acknowledged (see
:mod:`streams.runtime`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
import redis.asyncio as aioredis

from gridhub.domain.calendar import local_date
from gridhub.domain.context import Context
from gridhub.domain.kpis import kpi_deltas
from gridhub.domain.matter import Matter
from gridhub.keys import RedisKeys
from streams import codec
from streams.processor import BatchResult, MatterWork
from streams.views import running_deadlines

# ARGV[1]: JSON {warnings, offsets_key, push, alerts, prune, incr, set, zadd, zrem, results,
# offsets}, applied in that order (see Projector.write). Bulky values (timeline events,
# views, contacts) travel as ARGV[2..] and ``push``/``set`` name them by index, so neither
# orjson nor cjson escapes and copies JSON inside JSON. Scores travel as strings (Lua would
# print numbers with 14 digits). prune: [alert hash, open, [field prefixes
# "w|kind|generation|" of deadlines still running]] removes every other alert of the matter
# (grid alerts "g|..." stay while it is open).
_APPLY = """
local d = cjson.decode(ARGV[1])
local function many(cmd, key, list)
  for i = 1, #list, 4000 do
    redis.call(cmd, key, unpack(list, i, math.min(i + 3999, #list)))
  end
end
for _, x in ipairs(d.push) do
  local values = {}
  for i, j in ipairs(x[2]) do values[i] = ARGV[j] end
  many('RPUSH', x[1], values)
end
for _, x in ipairs(d.alerts) do
  redis.call('ZADD', d.warnings, x[2], x[1])
  redis.call('HSET', x[3], x[4], x[1])
end
for _, x in ipairs(d.prune) do
  local keep = {}
  for _, token in ipairs(x[3]) do keep[token] = true end
  local fields = redis.call('HGETALL', x[1])
  for i = 1, #fields, 2 do
    local f = fields[i]
    local stay
    if string.sub(f, 1, 2) == 'g|' then
      stay = x[2]
    else
      stay = x[2] and keep[string.match(f, '^(.*|)[^|]*$')] == true
    end
    if not stay then
      redis.call('ZREM', d.warnings, fields[i + 1])
      redis.call('HDEL', x[1], f)
    end
  end
end
for _, x in ipairs(d.incr) do redis.call('HINCRBY', x[1], x[2], x[3]) end
for _, x in ipairs(d.set) do redis.call('SET', x[1], ARGV[x[2]]) end
for _, x in ipairs(d.zadd) do many('ZADD', x[1], x[2]) end
for _, x in ipairs(d.zrem) do many('ZREM', x[1], x[2]) end
for _, x in ipairs(d.results) do
  redis.call('RPUSH', x[1], x[2])
  redis.call('EXPIRE', x[1], x[3])
end
if #d.offsets > 0 then many('HSET', d.offsets_key, d.offsets) end
return 0
"""


def local_day(moment: datetime) -> str:
    """The Asia/Shanghai day ``YYYYMMDD`` of an instant (KPI buckets)."""
    day = local_date(moment)
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


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
        self._apply = redis.register_script(_APPLY)

    async def applied_offsets(self, tps: Iterable[str]) -> dict[str, int]:
        """The last projected offset of each ``topic:partition`` (-1 when none)."""
        names = sorted(set(tps))
        if not names:
            return {}
        raw = await self.redis.hmget(self.keys.streams_offsets(), names)
        return {tp: int(v) if v is not None else -1 for tp, v in zip(names, raw, strict=True)}

    async def write(self, result: BatchResult, max_offsets: dict[str, int]) -> None:
        """Project ``result`` (all but its timers: :meth:`write_timers`); ``max_offsets`` =
        the highest input offset per tp of the batch."""
        applied = await self.applied_offsets(max_offsets)
        await self.apply(self.plan(result, max_offsets, applied))

    async def apply(self, plan: list[bytes]) -> None:
        """Run one :meth:`plan` (one atomic script call)."""
        await self._apply(keys=[], args=plan)

    def plan(
        self,
        result: BatchResult,
        max_offsets: dict[str, int],
        applied: dict[str, int],
    ) -> list[bytes]:
        """The script arguments that project ``result`` (no I/O): :meth:`write` without
        reading ``applied`` (the offsets already projected, :meth:`applied_offsets`) and
        without running them (:meth:`apply`)."""
        k = self.keys
        # KPI deltas per (slices, day, counter): matters of one unit and category share their
        # slices, so keys are formatted once per distinct slice set rather than per event.
        kpis: Counter[tuple[tuple[tuple[str, str], ...], str, str]] = Counter()
        blobs: list[bytes] = []  # ARGV[2..]: referenced by index from push and set

        def blob(value: bytes) -> int:
            blobs.append(value)
            return len(blobs) + 1

        push: list[tuple[str, list[int]]] = []
        views: list[tuple[str, int]] = []
        adds: dict[str, dict[str, float]] = {}
        removes: dict[str, list[str]] = {}
        for work in result.works.values():
            fresh = [s for s in work.steps if s.offset > applied.get(s.tp, -1)]
            for step in fresh:
                if step.after is None:
                    continue
                if step.events:
                    payloads = step.payloads or [codec.event_bytes(e) for e in step.events]
                    push.append((k.timeline(work.matter_id), [blob(p) for p in payloads]))
                dims: tuple[tuple[str, str], ...] | None = None
                for event in step.events:
                    deltas = kpi_deltas(event)
                    if not deltas:
                        continue
                    if dims is None:
                        dims = tuple(kpi_dimensions(step.after, self.ctx.city.code))
                    day = local_day(event.at)
                    for name, by in deltas.items():
                        kpis[(dims, day, name)] += by
                    if event.type == "accepted" and step.after.reporter is not None:
                        contact = codec.dumps(step.after.reporter)
                        views.append((k.contact(work.matter_id), blob(contact)))
            if work.changed and work.view is not None:
                view = work.view_bytes or codec.dumps(work.view)
                views.append((k.matter(work.matter_id), blob(view)))
                self._queues(adds, removes, work)
        alerts = []
        for alert in result.alerts:
            if not alert.projected or alert.offset <= applied.get(alert.tp, -1):
                continue
            member = codec.dumps(alert.message).decode()
            due = datetime.fromisoformat(alert.message["due_at"]).timestamp()
            hkey = k.matter_alerts(alert.message["matter_id"])
            alerts.append((member, repr(due), hkey, alert.field))
        prune = [p for w in result.works.values() if w.changed and (p := self._prune(w))]
        results = [
            (key, codec.dumps(command_result).decode(), self.result_ttl)
            for tp, offset, command_result in result.results
            if offset > applied.get(tp, -1)
            for key in [k.command_result(command_result["command_id"])]
        ]
        offsets = [
            str(x)
            for tp, o in sorted(max_offsets.items())
            if o > applied.get(tp, -1)
            for x in (tp, o)
        ]
        ops = self._ops(adds, removes)
        ops.update(
            push=push,
            alerts=alerts,
            prune=prune,
            incr=self._increments(kpis),
            set=views,
            results=results,
            offsets=offsets,
        )
        return [orjson.dumps(ops), *blobs]

    async def write_timers(self, result: BatchResult) -> None:
        """Apply ``result.schedule`` / ``result.cancel`` to the deadline index (one call)."""
        plan = self.plan_timers(result)
        if plan is not None:
            await self.apply(plan)

    def plan_timers(self, result: BatchResult) -> list[bytes] | None:
        """The script arguments of :meth:`write_timers` (no I/O); None when there are none."""
        k = self.keys
        adds: dict[str, dict[str, float]] = {}
        removes: dict[str, list[str]] = {}
        for partition, scheduled in result.schedule.items():
            key = k.deadlines(partition)
            for t in scheduled:
                adds.setdefault(key, {})[t.warning_id] = t.due_at.timestamp()
        for partition, ids in result.cancel.items():
            removes.setdefault(k.deadlines(partition), []).extend(ids)
        if not adds and not removes:
            return None
        return [orjson.dumps(self._ops(adds, removes))]

    def _ops(
        self, adds: dict[str, dict[str, float]], removes: dict[str, list[str]]
    ) -> dict[str, Any]:
        """The script's argument with these sorted-set changes and nothing else."""
        return {
            "warnings": self.keys.warnings(),
            "offsets_key": self.keys.streams_offsets(),
            "push": [],
            "alerts": [],
            "prune": [],
            "incr": [],
            "set": [],
            "zadd": [
                (key, [x for member, score in members.items() for x in (repr(score), member)])
                for key, members in adds.items()
            ],
            "zrem": list(removes.items()),
            "results": [],
            "offsets": [],
        }

    def _increments(
        self, kpis: Counter[tuple[tuple[tuple[str, str], ...], str, str]]
    ) -> list[tuple[str, str, int]]:
        """HINCRBY arguments: each delta counts in every slice, for its day and its month."""
        totals: Counter[tuple[str, str]] = Counter()
        for (dims, day, name), by in kpis.items():
            for dimension, code in dims:
                totals[(self.keys.kpi(dimension, code, day), name)] += by
                totals[(self.keys.kpi(dimension, code, day[:6]), name)] += by
        return [(key, name, by) for (key, name), by in totals.items() if by]

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

    def _prune(self, work: MatterWork) -> tuple[str, bool, list[str]] | None:
        """The alert clean-up of one matter (see :data:`_APPLY`), or None when none is due."""
        state, before = work.state, work.before
        assert state is not None
        fired = bool(state.fired_warnings) or (before is not None and bool(before.fired_warnings))
        if state.is_open:
            if not fired:
                return None  # no deadline alert to retire (grid alerts stay while open)
            running = running_deadlines(state)
            # A matter new in this batch may have fired and then met a deadline within it.
            was_running = running_deadlines(before) if before is not None else {}
            if before is not None and before.is_open and running == was_running:
                return None  # no deadline stopped running
        elif before is not None and not before.is_open:
            return None  # was already closed: its alerts went then
        else:
            running = {}
        tokens = [f"w|{kind}|{generation}|" for kind, (_, generation) in running.items()]
        return self.keys.matter_alerts(work.matter_id), state.is_open, tokens

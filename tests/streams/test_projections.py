"""The Redis projections of a batch (streams/projections.py), against the real Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis

from gridhub.cloudevents import KafkaRecord
from gridhub.commands_topic import command_record
from gridhub.domain.commands import SYSTEM, DeadlineDue, SignFor
from gridhub.domain.context import Context
from gridhub.domain.machine import pending_timers
from gridhub.domain.matter import Matter
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics
from streams.processor import InRecord, Processor
from streams.projections import Projector
from tests.streams.support import VILLAGE_ACTOR, intake_matter, intake_record


async def test_an_alert_of_a_deadline_met_in_the_same_batch_leaves_the_warnings(
    processor: Processor,
    topics: Topics,
    ctx: Context,
    settings: Settings,
    redis_client: aioredis.Redis,
) -> None:
    """A matter accepted, warned and signed for within ONE batch: the sign-for alert is
    retired with the deadline (its state at the batch start is 'no matter at all')."""
    m = intake_matter("TEST-FAST")
    first = processor.process(
        [InRecord(topics.intake, 0, 0, *_kv(intake_record(m)))], lambda _: None
    )
    state: Matter | None = first.works[m.matter_id].state
    yellow = next(t for t in pending_timers(state, ctx) if t.level == "yellow")
    at = datetime.now(UTC) + timedelta(seconds=4)
    tick = DeadlineDue(
        matter_id=m.matter_id,
        actor=SYSTEM,
        at=at,
        command_id=yellow.warning_id,
        warning_id=yellow.warning_id,
        level="yellow",
        kind=yellow.kind,
        generation=yellow.generation,
    )
    sign = SignFor(matter_id=m.matter_id, actor=VILLAGE_ACTOR, at=at, command_id="s1")
    records = [
        InRecord(topics.intake, 0, 0, *_kv(intake_record(m))),
        InRecord(topics.commands, 0, 0, *_kv(command_record(tick))),
        InRecord(topics.commands, 0, 1, *_kv(command_record(sign))),
    ]
    result = processor.process(records, lambda _: None)
    assert yellow.warning_id in result.works[m.matter_id].state.fired_warnings  # type: ignore[union-attr]
    assert {a.message["level"] for a in result.alerts} == {"yellow", "grid_alert"}

    keys = RedisKeys(settings.redis_prefix)
    projector = Projector(redis_client, keys, ctx)
    await projector.write(result, {f"{topics.intake}:0": 0, f"{topics.commands}:0": 1})

    left = await redis_client.zrange(keys.warnings(), 0, -1)
    assert [a for a in left if b'"level":"yellow"' in a] == []
    assert len([a for a in left if b'"grid_alert"' in a]) == 1  # grid alerts stay while open
    fields = await redis_client.hkeys(keys.matter_alerts(m.matter_id))
    assert [f for f in fields if f[:2] in (b"w|", "w|")] == []


def _kv(record: KafkaRecord) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    return record.key, record.value, list(record.headers)

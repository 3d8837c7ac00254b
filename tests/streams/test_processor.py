"""The pure batch core: routing, outputs, validation and dead letters, without Kafka."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import orjson

from gridhub.cloudevents import CloudEvent, KafkaRecord, decode, encode
from gridhub.commands_topic import command_record, ticks_record
from gridhub.domain.commands import Actor, ReportUp, SignFor
from gridhub.domain.context import Context
from gridhub.domain.hotspot import HotspotDetector
from gridhub.domain.machine import pending_timers, timer_command
from gridhub.domain.matter import Matter
from gridhub.intake import IntakeMatter
from gridhub.topics import Topics
from streams.processor import BatchResult, InRecord, Processor
from tests.streams.support import VILLAGE_ACTOR, intake_matter, intake_record

ZJJ = Actor(user_id="z1", role="department", scope_kind="department", scope_code="ZJJ")


class Harness:
    """Feeds records to a Processor and keeps the states between batches, like the table."""

    def __init__(self, processor: Processor) -> None:
        self.processor = processor
        self.states: dict[str, Matter] = {}
        self.offset = 0

    def run(self, *items: tuple[str, KafkaRecord]) -> BatchResult:
        records = []
        for topic, r in items:
            self.offset += 1
            records.append(InRecord(topic, 0, self.offset, r.key, r.value, r.headers))
        result = self.processor.process(records, self.states.get)
        for work in result.works.values():
            if work.state is not None:
                self.states[work.matter_id] = work.state
        return result


def by_topic(result: BatchResult, topic: str) -> list[CloudEvent]:
    return [decode(r.value, r.headers) for t, r in result.urgent + result.records if t == topic]


def test_intake_goes_to_the_department_with_its_deadlines(
    processor: Processor, topics: Topics, ctx: Context
) -> None:
    h = Harness(processor)
    m = intake_matter("TEST-DEPT")
    result = h.run((topics.intake, intake_record(m)))
    [task] = by_topic(result, topics.department("ZJJ"))
    [co] = by_topic(result, topics.department("GAJ"))
    state = h.states[m.matter_id]
    assert task.id == f"{m.matter_id}:1:ZJJ" and task.subject == m.matter_id
    assert task.data["role"] == "owner" and co.data["role"] == "co_handler"
    assert task.data["deadlines"]["resolve"] == state.deadlines["resolve"].due_at.isoformat()
    events = by_topic(result, topics.events)
    assert [e.data["type"] for e in events] == ["accepted", "assigned"]
    assert [e.id for e in events] == [f"{m.matter_id}:1:0", f"{m.matter_id}:1:1"]
    assert len(by_topic(result, topics.wallboard)) == 1
    assert {t.warning_id for t in result.schedule[0]} == {
        t.warning_id for t in pending_timers(state, ctx)
    }
    # the same intake again (a replay or a duplicate): nothing new
    again = h.run((topics.intake, intake_record(m)))
    assert again.records == [] and not again.works[m.matter_id].changed


def test_batch_coalesces_tasks_per_matter(processor: Processor, topics: Topics) -> None:
    h = Harness(processor)
    m = intake_matter("TEST-DEPT")
    sign = SignFor(matter_id=m.matter_id, actor=ZJJ, at=datetime.now(UTC), command_id="c1")
    result = h.run((topics.intake, intake_record(m)), (topics.commands, command_record(sign)))
    tasks = by_topic(result, topics.department("ZJJ"))
    assert [t.data["version"] for t in tasks] == [2]
    assert tasks[0].data["matter"]["state"] == "signed_for"
    assert [r[2]["status"] for r in result.results] == ["applied"]


def test_village_matter_reported_up_lands_at_its_township(
    processor: Processor, topics: Topics
) -> None:
    h = Harness(processor)
    m = intake_matter("TEST-FAST")
    h.run((topics.intake, intake_record(m)))
    assert h.states[m.matter_id].owner.kind == "village"
    up = ReportUp(
        matter_id=m.matter_id, actor=VILLAGE_ACTOR, at=datetime.now(UTC), reason="too big"
    )
    result = h.run((topics.commands, command_record(up)))
    owner = h.states[m.matter_id].owner
    assert (owner.kind, owner.code) == ("township", "T01")
    [delta] = by_topic(result, topics.wallboard)
    assert delta.data["matter"]["owner"] == {"kind": "township", "code": "T01"}
    stale = set(result.cancel[0])
    assert any(":sign_for:1:" in wid for wid in stale)  # the village's clocks are cancelled


def test_poison_records_go_to_the_dead_letter(processor: Processor, topics: Topics) -> None:
    h = Harness(processor)
    good = intake_matter("TEST-DEPT")
    bad_grid = IntakeMatter.model_validate(
        {**intake_matter().model_dump(), "grid": "NOPE", "matter_id": "MBAD"}
    )
    future = encode(CloudEvent.new("matter.intake", 9, source="/t", subject="MF", data={"x": 1}))
    wrong_key = intake_record(intake_matter())
    wrong_key = KafkaRecord(b"other", wrong_key.value, wrong_key.headers)
    result = h.run(
        (topics.intake, KafkaRecord(b"k", b"\xff not json", [])),
        (topics.intake, intake_record(bad_grid)),
        (topics.intake, future),
        (topics.intake, wrong_key),
        (topics.intake, intake_record(good)),
    )
    dead = by_topic(result, topics.dead_letter)
    reasons = [d.data["reason"] for d in dead]
    assert len(dead) == 4 and result.dead_letters == 4
    assert "ce_specversion" in reasons[0]
    assert "unknown grid 'NOPE'" in reasons[1]
    assert "schema version from the future" in reasons[2]
    assert "not the matter id" in reasons[3]
    assert dead[1].extensions["reason"] == reasons[1]
    assert orjson.loads(base64.b64decode(dead[1].data["value_b64"]))["grid"] == "NOPE"
    assert good.matter_id in h.states  # the stream kept going


def test_invalid_and_illegal_commands(processor: Processor, topics: Topics) -> None:
    h = Harness(processor)
    m = intake_matter("TEST-DEPT")
    h.run((topics.intake, intake_record(m)))
    garbage = encode(
        CloudEvent.new(
            "matter.command",
            1,
            source="/t",
            subject=m.matter_id,
            id="c-bad",
            data={"type": "sign_for", "matter_id": m.matter_id},
        )
    )
    illegal = ReportUp(  # a village hub cannot act on a department's matter
        matter_id=m.matter_id,
        actor=VILLAGE_ACTOR,
        at=datetime.now(UTC),
        reason="x",
        command_id="c-ill",
    )
    result = h.run((topics.commands, garbage), (topics.commands, command_record(illegal)))
    assert len(by_topic(result, topics.dead_letter)) == 1
    statuses = {r[2]["command_id"]: r[2] for r in result.results}
    assert statuses["c-bad"]["status"] == "rejected"
    assert statuses["c-ill"]["status"] == "rejected" and statuses["c-ill"]["reason"]
    [rejected] = by_topic(result, topics.events)
    assert rejected.data["type"] == "rejected"
    assert by_topic(result, topics.department("ZJJ")) == []  # no new version, no task


def test_deadline_tick_alerts_once(processor: Processor, topics: Topics, ctx: Context) -> None:
    h = Harness(processor)
    m = intake_matter("TEST-FAST", urgency="urgent")
    h.run((topics.intake, intake_record(m)))
    yellow = next(t for t in pending_timers(h.states[m.matter_id], ctx) if t.level == "yellow")
    tick = timer_command(yellow, datetime.now(UTC) + timedelta(seconds=4))
    first = h.run((topics.commands, command_record(tick)), (topics.commands, command_record(tick)))
    alerts = by_topic(first, topics.alerts)
    assert [a.data["level"] for a in alerts] == ["yellow", "grid_alert"]
    assert alerts[0].id == yellow.warning_id
    assert first.results == []  # timer ticks push no CommandResult
    second = h.run((topics.commands, command_record(tick)))
    assert by_topic(second, topics.alerts) == []
    # the index already holds the other timers: nothing rescheduled, the fired one cancelled
    assert first.schedule == {} and first.cancel == {0: [yellow.warning_id]}


def test_a_ticks_record_fires_the_warnings_of_several_matters(
    processor: Processor, topics: Topics, ctx: Context
) -> None:
    h = Harness(processor)
    ms = [intake_matter("TEST-FAST", urgency="urgent") for _ in range(2)]
    h.run(*[(topics.intake, intake_record(m)) for m in ms])
    yellows = [
        next(t for t in pending_timers(h.states[m.matter_id], ctx) if t.level == "yellow")
        for m in ms
    ]
    ids = [t.warning_id for t in yellows]
    record = ticks_record(ids, datetime.now(UTC) + timedelta(seconds=4))
    result = h.run((topics.commands, record))
    warned = [a for a in by_topic(result, topics.alerts) if a.data["level"] == "yellow"]
    assert [a.id for a in warned] == ids
    assert result.dead_letters == 0 and result.results == []
    # the same ticks again (a re-claim after a crash): nothing new
    again = h.run((topics.commands, record))
    assert by_topic(again, topics.alerts) == []


def test_a_malformed_ticks_record_is_dead_lettered_and_the_next_record_goes_on(
    processor: Processor, topics: Topics, ctx: Context
) -> None:
    h = Harness(processor)
    m = intake_matter("TEST-FAST", urgency="urgent")
    h.run((topics.intake, intake_record(m)))
    yellow = next(t for t in pending_timers(h.states[m.matter_id], ctx) if t.level == "yellow")
    at = datetime.now(UTC) + timedelta(seconds=4)
    bad = ticks_record([yellow.warning_id, "nonsense"], at)
    result = h.run((topics.commands, bad), (topics.commands, ticks_record([yellow.warning_id], at)))
    assert result.dead_letters == 1
    [letter] = by_topic(result, topics.dead_letter)
    assert "warning_ids[1]" in letter.data["reason"]
    assert [a.id for a in by_topic(result, topics.alerts) if a.data["level"] == "yellow"] == [
        yellow.warning_id
    ]


def test_accepted_matters_are_sighted_and_a_hotspot_found_is_alerted_on_its_matter(
    processor: Processor, topics: Topics
) -> None:
    """The processor lists each accepted matter for the hotspot count (the runtime counts
    them city-wide, :mod:`streams.hotspots`) and turns a hotspot found into the matter's
    ``:hotspot`` grid alert."""
    h = Harness(processor)
    ms = [intake_matter("URB-STALL") for _ in range(4)]
    result = h.run(*[(topics.intake, intake_record(m)) for m in ms])
    assert [(s.matter_id, s.grid, s.category, s.offset) for s in result.sightings] == [
        (m.matter_id, m.grid, "URB-STALL", offset) for offset, m in enumerate(ms, 1)
    ]
    assert h.run(*[(topics.intake, intake_record(m)) for m in ms]).sightings == []  # duplicates
    detector = HotspotDetector(threshold=3)
    found = [
        (s, alert)
        for s in result.sightings
        if (alert := detector.observe(s.grid, s.category, s.at, s.matter_id)) is not None
    ]
    records = processor.hotspot_alerts(result, found)
    [hot] = [decode(r.value, r.headers) for _, r in records]
    assert (hot.id, hot.data["kind"], hot.data["matter_id"]) == (
        f"{ms[2].matter_id}:hotspot",
        "hotspot",
        ms[2].matter_id,
    )
    assert hot.data["township"] == result.sightings[2].township != ""
    [alert] = result.alerts
    assert (alert.field, alert.offset, alert.projected) == ("g|hotspot|", 3, False)


def test_a_projection_only_replay_computes_what_the_projections_need_and_no_output(
    processor: Processor, topics: Topics, ctx: Context
) -> None:
    """``outputs=False`` (the rebuild): the same states, views, timeline payloads and
    alerts as the worker's processing, and no output record or timer."""
    m = intake_matter("TEST-FAST", urgency="urgent")
    items: list[tuple[str, KafkaRecord]] = [(topics.intake, intake_record(m))]
    live, replay = Harness(processor), Harness(Processor(ctx, topics, outputs=False))
    first = [h.run(*items) for h in (live, replay)]
    yellow = next(t for t in pending_timers(live.states[m.matter_id], ctx) if t.level == "yellow")
    tick = timer_command(yellow, datetime.now(UTC) + timedelta(seconds=4))
    second = [h.run((topics.commands, command_record(tick))) for h in (live, replay)]
    assert live.states == replay.states
    assert first[0].records and first[0].schedule and second[0].urgent  # the worker's outputs
    for a, b in (first, second):
        assert b.records == [] and b.urgent == [] and b.schedule == {} and b.cancel == {}
        assert [(w.view_bytes, [s.payloads for s in w.steps]) for w in a.works.values()] == [
            (w.view_bytes, [s.payloads for s in w.steps]) for w in b.works.values()
        ]
        assert [(x.message, x.field, x.offset) for x in a.alerts] == [
            (x.message, x.field, x.offset) for x in b.alerts
        ]
    assert second[1].alerts[0].field == f"w|{yellow.kind}|{yellow.generation}|yellow"

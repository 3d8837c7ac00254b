"""The batch core of the worker: records in, new states and every output out. No I/O.

    proc = Processor(ctx, topics)
    result = proc.process(records, states.get)

For each input record: decode (CloudEvent), validate (intake against the city, command
shape, key = matter id), apply through the pure domain (``machine.apply``) and collect the
outputs. Refused records become dead letters with the reason; nothing raises. Per matter,
the batch keeps the state at the batch start and the latest one, so department tasks,
wallboard deltas, timers and the table write happen once per matter per batch however many
of its records the batch holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from gridhub.cloudevents import DecodeError, KafkaRecord, decode
from gridhub.commands_topic import TICKS_EVENT, parse_commands
from gridhub.domain.commands import Command, DeadlineDue, InvalidCommand
from gridhub.domain.context import Context
from gridhub.domain.events import Accepted, Event, GridAlert
from gridhub.domain.events import Warning as WarningEvent
from gridhub.domain.machine import apply, pending_timers, pending_timers_after
from gridhub.domain.matter import Matter
from gridhub.domain.sla import ScheduledWarning
from gridhub.intake import check_against_city, parse_intake
from gridhub.topics import Topics
from gridhub.views import AlertMessage, CommandResult, MatterView
from streams import codec, messages
from streams.accept import accept_command
from streams.memo import Recent
from streams.views import (
    alert_message,
    department_task,
    grid_alert_message,
    matter_delta,
    matter_view,
)

log = logging.getLogger(__name__)

#: matters whose timers :meth:`Processor.timers_of` remembers, per generation of its memo
TIMER_MEMO = 10_000


@dataclass(frozen=True, slots=True)
class InRecord:
    """One consumed Kafka record."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


@dataclass(slots=True)
class Step:
    """One input applied to one matter: its events, their JSON (``payloads``, one per event
    when filled: encoded once for Kafka and the timeline) and the state after it."""

    tp: str
    offset: int
    command: Command
    events: list[Event]
    after: Matter | None
    payloads: list[bytes] = field(default_factory=list)


@dataclass(slots=True)
class MatterWork:
    """Everything one batch did to one matter."""

    matter_id: str
    partition: int
    before: Matter | None
    state: Matter | None
    steps: list[Step] = field(default_factory=list)
    view: MatterView | None = None
    view_bytes: bytes | None = None  # the JSON of ``view``, encoded once per batch

    @property
    def changed(self) -> bool:
        """Whether the state differs from the batch start (a new version)."""
        return self.state is not None and self.state is not self.before


@dataclass(frozen=True, slots=True)
class Sighting:
    """An accepted matter, to count towards its (grid, category)'s hotspot
    (:mod:`streams.hotspots`); ``tp`` and ``offset``: the input that accepted it."""

    matter_id: str
    grid: str
    category: str
    at: datetime
    township: str
    village: str
    tp: str
    offset: int


@dataclass(slots=True)
class Alert:
    """An alert to publish and project; ``field`` names it in the matter's alert hash."""

    message: AlertMessage
    field: str
    tp: str
    offset: int
    #: False for hotspot alerts: published, not kept in the matter's projections
    projected: bool = True


@dataclass
class BatchResult:
    """What one batch produced; :mod:`streams.app` sends, projects and persists it."""

    records: list[tuple[str, KafkaRecord]] = field(default_factory=list)
    #: alert records: the time-critical output, published before ``records``
    urgent: list[tuple[str, KafkaRecord]] = field(default_factory=list)
    works: dict[str, MatterWork] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    schedule: dict[int, list[ScheduledWarning]] = field(default_factory=dict)
    cancel: dict[int, list[str]] = field(default_factory=dict)
    #: accepted matters, for the hotspot count (done by the runtime: it needs Redis)
    sightings: list[Sighting] = field(default_factory=list)
    results: list[tuple[str, int, CommandResult]] = field(default_factory=list)
    fallback_years: list[int] = field(default_factory=list)
    dead_letters: int = 0
    now: bytes = field(default_factory=messages.now_iso)  # ce_time of records made now


class Processor:
    """Applies batches of input records through the domain (see the module doc)."""

    def __init__(self, ctx: Context, topics: Topics, outputs: bool = True) -> None:
        """``outputs=False``: a replay for the projections only (:mod:`streams.rebuild`): no
        output records (events, tasks, deltas, alerts) nor timers are made."""
        self.ctx = ctx
        self.topics = topics
        self.outputs = outputs
        self.ladder = len(ctx.policy.ladder)
        # pending_timers of the latest state of recently changed matters, by matter id:
        # (version, timers). A state's timers are computed once, when it is made, and
        # reused when it is the batch start of the matter's next change.
        self._timers: Recent[str, tuple[int, list[ScheduledWarning]]] = Recent(TIMER_MEMO)

    def timers_of(
        self, state: Matter, since: tuple[Matter, list[ScheduledWarning]] | None = None
    ) -> list[ScheduledWarning]:
        """``pending_timers(state)``, remembered for the matter's latest version; ``since``:
        an earlier state of the matter and its timers, to derive them from (see
        :func:`~gridhub.domain.machine.pending_timers_after`)."""
        found = self._timers.get(state.id)
        if found is not None and found[0] == state.version:
            return found[1]
        if since is None:
            timers = pending_timers(state, self.ctx)
        else:
            timers = pending_timers_after(since[0], since[1], state, self.ctx)
        self._timers.put(state.id, (state.version, timers))
        return timers

    def process(
        self,
        records: Sequence[InRecord],
        state_of: Callable[[str], Matter | None],
    ) -> BatchResult:
        """Apply ``records`` in order; ``state_of`` reads a matter's stored state."""
        out = self.apply_records(records, state_of)
        self.finish(out)
        return out

    def apply_records(
        self,
        records: Sequence[InRecord],
        state_of: Callable[[str], Matter | None],
    ) -> BatchResult:
        """The first half of :meth:`process`: every record applied, its events, alerts
        (``urgent``, complete here), dead letters and command results; then :meth:`finish`
        adds each changed matter's view, tasks, wallboard delta and timers."""
        out = BatchResult()
        for record in records:
            self._one(record, out, state_of)
        return out

    def finish(self, out: BatchResult) -> None:
        """The second half of :meth:`process` (see :meth:`apply_records`)."""
        for work in out.works.values():
            if work.changed:
                self._finish(work, out)

    # --- one record ------------------------------------------------------------------

    def _dead(self, out: BatchResult, record: InRecord, reason: str) -> None:
        log.warning(
            "dead letter %s[%d]@%d: %s", record.topic, record.partition, record.offset, reason
        )
        out.dead_letters += 1
        out.records.append(
            (
                self.topics.dead_letter,
                messages.dead_letter_record(
                    reason,
                    record.topic,
                    record.partition,
                    record.offset,
                    record.key,
                    record.value,
                    record.headers,
                ),
            )
        )

    def _commands_of(self, record: InRecord, out: BatchResult) -> list[Command]:
        """The record's commands (several for a tick record), or none after dead-lettering it."""
        try:
            event = decode(record.value, record.headers)
        except DecodeError as exc:
            self._dead(out, record, str(exc))
            return []
        if record.topic == self.topics.commands:
            commands = parse_commands(event)
            if isinstance(commands, InvalidCommand):
                self._dead(out, record, f"invalid command: {commands.reason}")
                if event.subject:  # let a waiting API caller know at once
                    self._reject_invalid(event.id, event.subject, commands, record, out)
                return []
            if event.name == TICKS_EVENT:
                return commands  # keyless, for the matters of its partition (see commands_topic)
        else:
            try:
                intake = parse_intake(event)
            except DecodeError as exc:
                self._dead(out, record, str(exc))
                return []
            problems = check_against_city(intake, self.ctx.city)
            if problems:
                self._dead(out, record, "; ".join(f"{f}: {p}" for f, p in problems))
                return []
            commands = [accept_command(intake)]
        if record.key != commands[0].matter_id.encode():
            self._dead(out, record, f"record key {record.key!r} is not the matter id")
            return []
        return commands

    def _reject_invalid(
        self,
        command_id: str,
        matter_id: str,
        bad: InvalidCommand,
        record: InRecord,
        out: BatchResult,
    ) -> None:
        result: CommandResult = {
            "command_id": command_id,
            "matter_id": matter_id,
            "status": "rejected",
            "reason": f"invalid command: {bad.reason}",
            "events": [],
        }
        out.results.append((f"{record.topic}:{record.partition}", record.offset, result))

    def _one(
        self,
        record: InRecord,
        out: BatchResult,
        state_of: Callable[[str], Matter | None],
    ) -> None:
        for command in self._commands_of(record, out):
            self._apply(command, record, out, state_of)

    def _apply(
        self,
        command: Command,
        record: InRecord,
        out: BatchResult,
        state_of: Callable[[str], Matter | None],
    ) -> None:
        mid = command.matter_id
        work = out.works.get(mid)
        if work is None:
            before = state_of(mid)
            work = MatterWork(mid, record.partition, before, before)
            out.works[mid] = work
        state, events = apply(work.state, command, self.ctx)
        work.state = state
        step = Step(f"{record.topic}:{record.partition}", record.offset, command, events, state)
        work.steps.append(step)
        if (
            record.topic == self.topics.commands
            and command.command_id
            and not isinstance(command, DeadlineDue)
        ):
            out.results.append((step.tp, step.offset, _result(command, events, state)))
        years = self.ctx.calendar.new_fallback_years()
        if years:
            out.fallback_years.extend(sorted(years))
            self._calendar_alerts(sorted(years), command, state, step, out)
        events_topic = self.topics.events
        for event in events:
            body = codec.event_bytes(event)
            step.payloads.append(body)
            if self.outputs:
                out.records.append((events_topic, messages.event_record(event, body)))
            if state is None:
                continue
            alert = alert_message(event, state)
            if alert is not None:
                self._alert(alert, _alert_field(event), step, out)
            if isinstance(event, Accepted):
                out.sightings.append(
                    Sighting(
                        state.id,
                        state.grid,
                        state.category,
                        state.received_at,
                        state.township,
                        state.village,
                        step.tp,
                        step.offset,
                    )
                )

    def _alert(self, alert: AlertMessage, field: str, step: Step, out: BatchResult) -> None:
        if self.outputs:
            out.urgent.append((self.topics.alerts, messages.alert_record(alert, out.now)))
        out.alerts.append(Alert(alert, field, step.tp, step.offset))

    def hotspot_alerts(
        self, out: BatchResult, found: Sequence[tuple[Sighting, GridAlert]]
    ) -> list[tuple[str, KafkaRecord]]:
        """Add the alerts of the hotspots ``found`` among ``out.sightings`` (by
        :mod:`streams.hotspots`) to ``out.alerts`` (not projected, see there); return their
        records for ``alerts`` (none when this processor makes no outputs). Each is the
        matter's ``:hotspot``."""
        records: list[tuple[str, KafkaRecord]] = []
        for sighting, alert in found:
            message = grid_alert_message(
                alert, sighting.township, sighting.village, f"{sighting.matter_id}:hotspot"
            )
            out.alerts.append(
                Alert(message, "g|hotspot|", sighting.tp, sighting.offset, projected=False)
            )
            if self.outputs:
                records.append((self.topics.alerts, messages.alert_record(message, out.now)))
        return records

    def _calendar_alerts(
        self, years: list[int], command: Command, state: Matter | None, step: Step, out: BatchResult
    ) -> None:
        for year in years:
            detail = (
                f"no holiday data for {year}: working days there fall back to plain weekends; "
                "supply a holiday file (GRIDHUB_HOLIDAY_DIR) to fix deadlines"
            )
            log.error("CALENDAR FALLBACK: %s", detail)
            alert: AlertMessage = {
                "id": f"calendar:{year}",
                "matter_id": command.matter_id,
                "level": "calendar",
                "kind": "calendar_fallback",
                "target": "city",
                "due_at": f"{year}-01-01T00:00:00+08:00",
                "fired_at": command.at.isoformat(),
                "township": "",
                "village": "",
                "detail": detail,
            }
            self._alert(alert, f"g|calendar{year}|", step, out)
            delta = {
                "kind": "calendar",
                "scope": {"township": "", "village": "", "grid": "", "departments": []},
                "at": command.at.isoformat(),
                "data": {"year": year, "fallback": "weekends", "detail": detail},
            }
            out.records.append(
                (
                    self.topics.wallboard,
                    messages.delta_record(delta, f"calendar:{year}", None, out.now),
                )
            )

    # --- once per matter per batch -------------------------------------------------------

    def _finish(self, work: MatterWork, out: BatchResult) -> None:
        state, before = work.state, work.before
        assert state is not None
        view = matter_view(state, self.ladder)
        work.view = view
        # The view is encoded once and spliced into the task and delta bodies.
        work.view_bytes = codec.dumps(view)
        if not self.outputs:
            return  # the projections need the view only (timers: from the final states)
        encoded = orjson.Fragment(work.view_bytes)
        departments = list(state.departments)
        if before is not None:
            departments += [d for d in before.departments if d not in departments]
        for dept in departments:
            task = department_task(state, dept, view)
            task["matter"] = encoded
            out.records.append(
                (
                    self.topics.department(dept),
                    messages.task_record(state.id, state.version, dept, task, out.now),
                )
            )
        delta: dict[str, object] = {**matter_delta(state, view), "matter": encoded}
        out.records.append(
            (
                self.topics.wallboard,
                messages.delta_record(delta, f"{state.id}:{state.version}:wb", state.id, out.now),
            )
        )
        # before's timers first: they are remembered from the change that made that state
        if before is None:
            before_timers, after_timers = [], self.timers_of(state)
        else:
            before_timers = self.timers_of(before)
            after_timers = self.timers_of(state, (before, before_timers))
        # Only timers the index does not hold yet: those of the batch-start state were
        # scheduled when that state was made (a rebuild re-creates the index from states).
        known = {t.warning_id for t in before_timers}
        fresh = [t for t in after_timers if t.warning_id not in known]
        if fresh:
            out.schedule.setdefault(work.partition, []).extend(fresh)
        if before_timers:
            keep = {t.warning_id for t in after_timers}
            stale = [t.warning_id for t in before_timers if t.warning_id not in keep]
            if stale:
                out.cancel.setdefault(work.partition, []).extend(stale)


def _alert_field(event: Event) -> str:
    """The alert's field in the matter's alert hash: ``w|kind|generation|level`` for deadline
    warnings (removed when that deadline stops running), ``g|<event id>|`` for grid alerts
    (removed when the matter is no longer open)."""
    if isinstance(event, WarningEvent):
        return f"w|{event.kind}|{event.generation}|{event.level}"
    return f"g|{event.event_id}|"


def _result(command: Command, events: list[Event], state: Matter | None) -> CommandResult:
    rejected = [e for e in events if e.type == "rejected"]
    result: CommandResult = {
        "command_id": command.command_id,
        "matter_id": command.matter_id,
        "status": "rejected" if rejected else "applied",
        "events": [e.type for e in events],
    }
    if rejected:
        result["reason"] = str(getattr(rejected[0], "reason", ""))
    if state is not None:
        result["state"] = state.state.value
        result["version"] = state.version
    return result

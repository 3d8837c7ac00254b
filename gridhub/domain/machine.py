"""The matter state machine: ``apply(state, command, ctx) -> (state, events)``.

    ctx = Context(city, WorkCalendar(overrides), WarningPolicy())
    state, events = apply(None, accept_command, ctx)       # a new matter
    state, events = apply(state, sign_for_command, ctx)
    for w in pending_timers(state, ctx): timers.schedule(w.warning_id, w.due_at)
    # when a timer fires: apply(state, timer_command(w, now), ctx)

Guarantees:

* ``apply`` never raises. An illegal command returns the unchanged state and one
  :class:`~gridhub.domain.events.Rejected` event with the reason. A bug inside a rule is
  also turned into a rejection ("internal error: ...") rather than crashing the stream.
* Idempotent: a duplicate Accept for an existing matter, and a timer tick for a warning
  already fired, of a stale deadline generation or of a matter no longer open, return the
  state unchanged and no events.
* ``version`` goes up by exactly one for each applied command (a command with events
  other than Rejected); Accept creates version 1.
* Closed matters take only Reopen and (an unrated) Rate; merged matters take nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from gridhub.domain import events as ev
from gridhub.domain import oversight as ov
from gridhub.domain import sla
from gridhub.domain import transitions as tr
from gridhub.domain.commands import (
    SYSTEM,
    Accept,
    Command,
    DeadlineDue,
    InvalidCommand,
    Rate,
    Reopen,
)
from gridhub.domain.context import Context, Emitter
from gridhub.domain.matter import OPEN_STATES, Deadline, Matter, Owner, State, evolve
from gridhub.domain.permissions import check
from gridhub.domain.routing import co_handlers_for, route

Result = tuple[Matter | None, list[ev.Event]]
_Handler = Callable[[Matter, Any, Context, Emitter], "Matter | str"]

HANDLERS: dict[str, _Handler] = {
    "assign": tr.on_assign,
    "forward": tr.on_forward,
    "sign_for": tr.on_sign_for,
    "add_progress": tr.on_add_progress,
    "resolve": tr.on_resolve,
    "return": tr.on_return,
    "report_up": tr.on_report_up,
    "request_extension": ov.on_request_extension,
    "decide_extension": ov.on_decide_extension,
    "rate": ov.on_rate,
    "close": ov.on_close,
    "reopen": ov.on_reopen,
    "merge": tr.on_merge,
    "urge": ov.on_urge,
    "supervise": ov.on_supervise,
    "escalate_to_leader": ov.on_escalate,
    "whistle": ov.on_whistle,
    "report_in": ov.on_report_in,
}


def apply(state: Matter | None, command: Command, ctx: Context) -> Result:
    """Apply one command to one matter's state (None when the matter does not exist yet)."""
    try:
        return _apply(state, command, ctx)
    except Exception as exc:  # the stream must never crash on one command
        return state, [_rejected(state, command, f"internal error: {type(exc).__name__}: {exc}")]


def rejected_from_invalid(
    bad: InvalidCommand, at: datetime, state: Matter | None = None
) -> ev.Rejected:
    """The Rejected event for a command dict that did not decode (see ``command_from_dict``)."""
    return ev.Rejected(
        matter_id=bad.matter_id,
        actor=SYSTEM,
        at=at,
        before_state=state.state.value if state else "",
        after_state=state.state.value if state else "",
        version=state.version if state else 0,
        owner=state.owner if state else None,
        command_type=bad.command_type,
        reason=bad.reason,
    )


def _apply(state: Matter | None, command: Command, ctx: Context) -> Result:
    if command.at.tzinfo is None or command.at.utcoffset() is None:
        return state, [_rejected(state, command, "'at' must be a time-zone-aware date-time")]
    if not command.matter_id:
        return state, [_rejected(state, command, "matter_id is missing")]
    if state is not None and state.id != command.matter_id:
        return state, [_rejected(state, command, f"state is of matter {state.id}")]
    if isinstance(command, Accept):
        if state is not None:
            return state, []  # duplicate intake: idempotent no-op
        return _accept(command, ctx)
    if state is None:
        return None, [_rejected(None, command, f"unknown matter {command.matter_id}")]
    if isinstance(command, DeadlineDue):
        if command.actor.role != "system":
            return state, [_rejected(state, command, "only the timer service sends deadline ticks")]
        return _deadline_due(state, command, ctx)
    reason = check(command, state, ctx.city)
    if reason is None:
        if state.state == State.MERGED:
            reason = f"the matter was merged into {state.merged_into}"
        elif state.state == State.CLOSED and not isinstance(command, Reopen | Rate):
            reason = "the matter is closed; only reopen or a rating can follow"
    handler = HANDLERS.get(command.type)
    if reason is None and handler is None:
        reason = f"unsupported command {command.type!r}"
    if reason is not None or handler is None:
        return state, [_rejected(state, command, reason or "unsupported")]
    em = Emitter()
    outcome = handler(state, command, ctx, em)
    if isinstance(outcome, str):
        return state, [_rejected(state, command, outcome)]
    new = evolve(outcome, version=state.version + 1, updated_at=command.at)
    return new, _stamp(new, command, em)


def _accept(c: Accept, ctx: Context) -> Result:
    reason = check(c, None, ctx.city)
    city = ctx.city
    category = city.categories.get(c.category)
    if reason is None and category is None:
        reason = f"unknown category {c.category!r}"
    if reason is None and c.grid not in city.grids:
        reason = f"unknown grid {c.grid!r}"
    if reason is None and c.urgency not in city.urgencies:
        reason = f"unknown urgency {c.urgency!r}; one of {', '.join(city.urgencies)}"
    if reason is None and c.solved_on_spot and c.source != "patrol":
        reason = "only a grid worker's patrol matter can be solved on the spot"
    if reason is None and (c.received_at.tzinfo is None or c.received_at.utcoffset() is None):
        reason = "received_at must be time-zone aware"
    if reason is not None or category is None:
        return None, [_rejected(None, c, reason or "unknown category")]
    village = city.village_of_grid(c.grid)
    base = Matter(
        id=c.matter_id,
        source=c.source,
        source_id=c.source_id,
        category=c.category,
        urgency=c.urgency,
        grid=c.grid,
        village=village,
        township=city.township_of_grid(c.grid),
        description=c.description,
        owner=Owner(kind="village", code=village),
        tier=Owner(kind="village", code=village).tier,
        state=State.ACCEPTED,
        accepted_at=c.at,
        received_at=c.received_at,
        version=1,
        address=c.address,
        lat=c.lat,
        lon=c.lon,
        reporter=c.reporter,
        attachments=c.attachments,
        worker_id=c.worker_id,
        updated_at=c.at,
    )
    em = Emitter()
    accepted = dict(
        source=c.source,
        source_id=c.source_id,
        category=c.category,
        urgency=c.urgency,
        grid=c.grid,
        village=village,
        township=base.township,
        description=c.description,
        solved_on_spot=c.solved_on_spot,
    )
    em.emit(ev.Accepted, "", State.ACCEPTED, **accepted)
    if c.solved_on_spot:
        result = c.result or "solved on the spot by the grid worker"
        new = evolve(
            base,
            state=State.CLOSED,
            resolved_at=c.at,
            closed_at=c.at,
            result=result,
            resolved_on_time=True,
        )
        em.emit(ev.Resolved, State.ACCEPTED, State.RESOLVED, result=result, on_time=True)
        em.emit(ev.Closed, State.RESOLVED, State.CLOSED, note="solved on the spot")
        return new, _stamp(new, c, em)
    owner = route(category, c.grid, city)
    routed = tr.hand_over(base, owner, c.at, ctx, co_handlers_for(owner, category))
    if isinstance(routed, str):
        return None, [_rejected(None, c, routed)]
    em.emit(
        ev.Assigned,
        State.ACCEPTED,
        routed.state,
        previous_owner=None,
        tier=routed.tier.value,
        deadlines=tr.dues(routed),
        note="routed at intake",
    )
    return routed, _stamp(routed, c, em)


def _running(m: Matter, kind: str) -> Deadline | None:
    department = sla.department_of_kind(kind)
    if department is None:
        return m.deadlines.get(kind)
    task = m.whistle_tasks.get(department)
    if task is None or task.reported_at is not None:
        return None
    return Deadline(due_at=task.due_at, generation=task.generation, started_at=task.started_at)


def _deadline_due(m: Matter, c: DeadlineDue, ctx: Context) -> Result:
    if m.state not in OPEN_STATES or c.warning_id in m.fired_warnings:
        return m, []
    deadline = _running(m, c.kind)
    if deadline is None or deadline.generation != c.generation:
        return m, []  # stale: the deadline was met, moved or cleared
    warning = _warning_of(m, c.kind, deadline, c.level, ctx)
    if warning is None or warning.warning_id != c.warning_id:
        return m, []
    step = sla.escalation_step(warning.level)
    new = evolve(
        m,
        fired_warnings=m.fired_warnings | {warning.warning_id},
        overdue=m.overdue or (warning.level == "red" and c.kind == sla.RESOLVE),
        escalation_level=max(m.escalation_level, step),
        version=m.version + 1,
        updated_at=c.at,
    )
    em = Emitter()
    em.emit(
        ev.Warning,
        m.state,
        new.state,
        level=warning.level,
        kind=c.kind,
        target=warning.target,
        due_at=warning.due_at,
        warning_id=warning.warning_id,
        generation=warning.generation,
        department=sla.department_of_kind(c.kind),
    )
    if warning.level == "yellow" and m.owner.kind == "village" and c.kind in sla.OWNER_CLOCKS:
        em.emit(
            ev.GridAlert,
            m.state,
            new.state,
            reason="near_deadline",
            grid=m.grid,
            category=m.category,
            detail=f"{c.kind} due at {deadline.due_at.isoformat()}",
        )
    return new, _stamp(new, c, em)


def _warning_of(
    m: Matter, kind: str, deadline: Deadline, level: str, ctx: Context
) -> sla.ScheduledWarning | None:
    """One warning of a running deadline (None for a level the policy does not have)."""
    return sla.warning_at(
        m.id,
        kind,
        deadline.generation,
        level,
        deadline.started_at,
        deadline.due_at,
        ctx.policy,
        ctx.calendar,
        sla.runs_round_the_clock(m.urgency),
        unit=sla.clock_unit(ctx.city.categories.get(m.category), m.urgency, kind),
    )


def _next_of(m: Matter, kind: str, deadline: Deadline, ctx: Context) -> list[sla.ScheduledWarning]:
    """The timers of one running deadline: its yellow and red until they fire, then the
    next escalation step (each step is scheduled when the one before it has fired)."""
    out: list[sla.ScheduledWarning] = []
    fired = m.fired_warnings
    for level in sla.warning_levels(ctx.policy):
        if sla.warning_id(m.id, kind, deadline.generation, level) in fired:
            continue
        w = _warning_of(m, kind, deadline, level, ctx)
        if w is not None:
            out.append(w)
        if level != "yellow":
            break
    return out


def _by_due(w: sla.ScheduledWarning) -> tuple[datetime, str]:
    return w.due_at, w.warning_id


def pending_timers(state: Matter | None, ctx: Context) -> list[sla.ScheduledWarning]:
    """The timers to hold for ``state``, earliest first: schedule these after each apply.

    Per running deadline: its yellow and red warnings not fired yet, or, once both fired,
    its next escalation step only. A step is computed and scheduled when the warning before
    it fires, so an open matter keeps at most two timers per deadline in the index (instead
    of the whole ladder) and accepting a matter computes no escalation times.

    Timers of earlier generations or of deadlines no longer running may be dropped: a tick
    for them is ignored anyway.
    """
    if state is None or state.state not in OPEN_STATES:
        return []
    out: list[sla.ScheduledWarning] = []
    for kind in state.deadlines:
        out += _next_of(state, kind, state.deadlines[kind], ctx)
    for department in state.whistle_tasks:
        kind = sla.report_in_kind(department)
        deadline = _running(state, kind)
        if deadline is not None:
            out += _next_of(state, kind, deadline, ctx)
    out.sort(key=_by_due)
    return out


def pending_timers_after(
    prev: Matter | None,
    prev_timers: list[sla.ScheduledWarning],
    state: Matter | None,
    ctx: Context,
) -> list[sla.ScheduledWarning]:
    """``pending_timers(state)``, given ``prev_timers == pending_timers(prev)`` for an earlier
    state of the same matter: when only warnings fired in between (a timer tick), the earlier
    list minus the fired ones plus their deadlines' next steps, recomputing no other
    deadline's timers."""
    if (
        prev is None
        or state is None
        or prev.state not in OPEN_STATES
        or state.state not in OPEN_STATES
        or not (state.deadlines is prev.deadlines or state.deadlines == prev.deadlines)
        or not (
            state.whistle_tasks is prev.whistle_tasks or state.whistle_tasks == prev.whistle_tasks
        )
        or state.category != prev.category
        or state.urgency != prev.urgency
        or not state.fired_warnings >= prev.fired_warnings
    ):
        return pending_timers(state, ctx)
    fired = state.fired_warnings
    if fired is prev.fired_warnings:
        return list(prev_timers)
    kinds = {sla.parse_warning_id(w)[1] for w in fired - prev.fired_warnings}
    out = [t for t in prev_timers if t.kind not in kinds]
    for kind in kinds:
        deadline = _running(state, kind)
        if deadline is not None:
            out += _next_of(state, kind, deadline, ctx)
    out.sort(key=_by_due)
    return out


def timer_command(warning: sla.ScheduledWarning, at: datetime) -> DeadlineDue:
    """The command a timer sends when ``warning`` is due."""
    return DeadlineDue(
        matter_id=warning.matter_id,
        actor=SYSTEM,
        at=at,
        command_id=warning.warning_id,
        warning_id=warning.warning_id,
        level=warning.level,
        kind=warning.kind,
        generation=warning.generation,
    )


def due_command(warning_id: str, at: datetime) -> DeadlineDue:
    """The tick for a warning known only by its id (a claimed deadline); raises ValueError
    when ``warning_id`` is not one (see :func:`sla.parse_warning_id`)."""
    matter_id, kind, generation, level = sla.parse_warning_id(warning_id)
    return DeadlineDue(
        matter_id=matter_id,
        actor=SYSTEM,
        at=at,
        command_id=warning_id,
        warning_id=warning_id,
        level=level,
        kind=kind,
        generation=generation,
    )


def _stamp(new: Matter, c: Command, em: Emitter) -> list[ev.Event]:
    return [
        cls(
            matter_id=new.id,
            actor=c.actor,
            at=c.at,
            before_state=str(before),
            after_state=str(after),
            version=new.version,
            owner=new.owner,
            command_id=c.command_id,
            seq=seq,
            **payload,
        )
        for seq, (cls, before, after, payload) in enumerate(em.specs)
    ]


def _rejected(state: Matter | None, c: Command, reason: str) -> ev.Rejected:
    current = state.state.value if state else ""
    return ev.Rejected(
        matter_id=c.matter_id,
        actor=c.actor,
        at=c.at,
        before_state=current,
        after_state=current,
        version=state.version if state else 0,
        owner=state.owner if state else None,
        command_id=c.command_id,
        command_type=c.type,
        reason=reason,
    )

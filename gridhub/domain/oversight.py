"""Rules of oversight and closure: extensions, ratings, close/reopen, urge, supervise,
escalation to a leader, township whistles and department report-ins.

Same contract as :mod:`gridhub.domain.transitions`: each ``on_<command>(m, c, ctx, em)``
returns the new state (recording events on ``em``) or the refusal reason as a ``str``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from gridhub.domain import events as ev
from gridhub.domain import sla
from gridhub.domain.commands import (
    Close,
    DecideExtension,
    EscalateToLeader,
    Rate,
    Reopen,
    ReportIn,
    RequestExtension,
    Supervise,
    Urge,
    Whistle,
)
from gridhub.domain.context import Context, Emitter
from gridhub.domain.matter import (
    WORKING_STATES,
    Deadline,
    ExtensionRequest,
    Matter,
    State,
    WhistleTask,
    evolve,
)
from gridhub.domain.routing import leader_owner
from gridhub.domain.transitions import HANDLING, dues, hand_over, state_error


def on_request_extension(m: Matter, c: RequestExtension, ctx: Context, em: Emitter) -> Matter | str:
    if m.state not in WORKING_STATES:
        return f"an extension needs a signed-for matter (it is {m.state.value})"
    if m.extension is not None:
        return "an extension request is already pending"
    if not c.reason.strip():
        return "an extension request needs a reason"
    due = m.deadlines.get(sla.RESOLVE)
    if due is None:
        return "the matter has no resolve deadline to extend"
    if c.proposed_due.tzinfo is None:
        return "proposed_due needs a time zone"
    if c.proposed_due <= due.due_at or c.proposed_due <= c.at:
        return "the proposed deadline must be later than the current one and than now"
    req = ExtensionRequest(
        requested_by=c.actor.user_id,
        reason=c.reason,
        proposed_due=c.proposed_due,
        requested_at=c.at,
    )
    new = evolve(m, extension=req)
    em.emit(ev.ExtensionRequested, m.state, new.state, reason=c.reason, proposed_due=c.proposed_due)
    return new


def on_decide_extension(m: Matter, c: DecideExtension, ctx: Context, em: Emitter) -> Matter | str:
    if err := state_error(m, HANDLING, "decide an extension of"):
        return err
    req = m.extension
    if req is None:
        return "no extension request is pending"
    if not c.approve:
        new = evolve(m, extension=None)
        em.emit(
            ev.ExtensionDecided, m.state, new.state, approve=False, new_due=None, comment=c.comment
        )
        return new
    if req.proposed_due <= c.at:
        return "the proposed deadline has already passed; the owner must ask again"
    gen = m.generations.get(sla.RESOLVE, 0) + 1
    deadline = Deadline(due_at=req.proposed_due, generation=gen, started_at=c.at)
    new = evolve(
        m,
        extension=None,
        deadlines={**m.deadlines, sla.RESOLVE: deadline},
        generations={**m.generations, sla.RESOLVE: gen},
    )
    em.emit(
        ev.ExtensionDecided,
        m.state,
        new.state,
        approve=True,
        new_due=req.proposed_due,
        comment=c.comment,
    )
    return new


def on_rate(m: Matter, c: Rate, ctx: Context, em: Emitter) -> Matter | str:
    if m.state not in (State.RESOLVED, State.CLOSED):
        return f"only a resolved or closed matter can be rated (it is {m.state.value})"
    if m.rating is not None:
        return "this resolution has already been rated"
    rated = evolve(m, rating=c.rating)
    em.emit(ev.Rated, m.state, m.state, rating=c.rating, comment=c.comment)
    if c.rating == "not_satisfied":
        return _reopen(rated, "citizen not satisfied: " + c.comment, c.at, ctx, em)
    if m.state == State.RESOLVED:
        new = evolve(rated, state=State.CLOSED, closed_at=c.at)
        em.emit(ev.Closed, m.state, new.state, note="closed after a satisfied rating")
        return new
    return rated


def on_close(m: Matter, c: Close, ctx: Context, em: Emitter) -> Matter | str:
    if m.state != State.RESOLVED:
        return f"only a resolved matter can be closed (it is {m.state.value})"
    new = evolve(m, state=State.CLOSED, closed_at=c.at)
    em.emit(ev.Closed, m.state, new.state, note=c.note)
    return new


def on_reopen(m: Matter, c: Reopen, ctx: Context, em: Emitter) -> Matter | str:
    if m.state not in (State.RESOLVED, State.CLOSED):
        return f"only a resolved or closed matter can be reopened (it is {m.state.value})"
    if not c.reason.strip():
        return "a reopen needs a reason"
    return _reopen(m, c.reason, c.at, ctx, em)


def _reopen(m: Matter, reason: str, at: datetime, ctx: Context, em: Emitter) -> Matter | str:
    new = hand_over(m, m.owner, at, ctx, m.co_handlers)
    if isinstance(new, str):
        return new
    new = evolve(
        new,
        reopen_count=m.reopen_count + 1,
        rating=None,
        resolved_at=None,
        closed_at=None,
        resolved_on_time=None,
        overdue=False,
    )
    em.emit(
        ev.Reopened,
        m.state,
        new.state,
        reason=reason,
        was_on_time=bool(m.resolved_on_time),
        deadlines=dues(new),
    )
    return new


def on_urge(m: Matter, c: Urge, ctx: Context, em: Emitter) -> Matter | str:
    if err := state_error(m, HANDLING, "urge"):
        return err
    new = evolve(m, urge_count=m.urge_count + 1)
    em.emit(ev.Urged, m.state, new.state, urge_count=new.urge_count, note=c.note)
    return new


def on_supervise(m: Matter, c: Supervise, ctx: Context, em: Emitter) -> Matter | str:
    if err := state_error(m, HANDLING, "supervise"):
        return err
    if m.supervised:
        return "the matter is already under supervision"
    new = evolve(m, supervised=True)
    em.emit(ev.Supervised, m.state, new.state, note=c.note)
    return new


def on_escalate(m: Matter, c: EscalateToLeader, ctx: Context, em: Emitter) -> Matter | str:
    if err := state_error(m, HANDLING, "escalate"):
        return err
    if m.owner.kind == "leader":
        return "a city leader already holds the matter"
    new = hand_over(m, leader_owner(ctx.city), c.at, ctx)
    if isinstance(new, str):
        return new
    em.emit(
        ev.EscalatedToLeader,
        m.state,
        new.state,
        previous_owner=m.owner,
        reason=c.reason,
        deadlines=dues(new),
    )
    return new


def on_whistle(m: Matter, c: Whistle, ctx: Context, em: Emitter) -> Matter | str:
    if err := state_error(m, HANDLING, "whistle for"):
        return err
    if not c.departments or len(set(c.departments)) != len(c.departments):
        return "a whistle names one or more distinct departments"
    for code in c.departments:
        if code not in ctx.city.departments:
            return f"unknown department {code!r}"
        task = m.whistle_tasks.get(code)
        if task is not None and task.reported_at is None:
            return f"department {code} is already summoned and has not reported in yet"
    due = c.report_in_due
    if due is None:
        category = ctx.city.categories.get(m.category)
        if category is None:
            return f"category {m.category!r} is not in the city data"
        due = sla.report_in_due(category, m.urgency, c.at, ctx.calendar)
    if due.tzinfo is None:
        return "report_in_due needs a time zone"
    if due <= c.at:
        return "the report-in deadline must be in the future"
    tasks, gens = dict(m.whistle_tasks), dict(m.generations)
    for code in c.departments:
        kind = sla.report_in_kind(code)
        gens[kind] = gens.get(kind, 0) + 1
        tasks[code] = WhistleTask(due_at=due, generation=gens[kind], started_at=c.at)
    new = evolve(m, whistle_tasks=tasks, generations=gens)
    em.emit(
        ev.Whistled, m.state, new.state, departments=c.departments, report_in_due=due, note=c.note
    )
    return new


def on_report_in(m: Matter, c: ReportIn, ctx: Context, em: Emitter) -> Matter | str:
    if err := state_error(m, HANDLING, "report in for"):
        return err
    task = m.whistle_tasks.get(c.department)
    if task is None:
        return f"department {c.department} was not summoned to this matter"
    if task.reported_at is not None:
        return f"department {c.department} has already reported in"
    on_time = c.at <= task.due_at
    tasks = {**m.whistle_tasks, c.department: replace(task, reported_at=c.at)}
    new = evolve(m, whistle_tasks=tasks)
    em.emit(
        ev.ReportedIn, m.state, new.state, department=c.department, on_time=on_time, note=c.note
    )
    return new

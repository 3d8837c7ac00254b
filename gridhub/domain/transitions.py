"""One function per command of the hand-over life cycle: assign, forward, sign for, progress,
resolve, return, report up and merge (oversight and closure rules are in
:mod:`gridhub.domain.oversight`).

Each ``on_<command>(m, c, ctx, em)`` returns the new state (and records events on ``em``)
or a ``str``: the reason the command is refused. Permissions, closed/merged matters and
version stamping are handled by :func:`gridhub.domain.machine.apply`; call that, not these.

Clock rule: every hand-over to an owner (routing, assign, forward, return, report up,
escalation, reopen) starts fresh sign-for and resolve clocks from ``c.at`` with the next
generation, so deadlines are never in the past at assignment and old timers go stale.
"""

from __future__ import annotations

from datetime import datetime

from gridhub.domain import events as ev
from gridhub.domain import sla
from gridhub.domain.commands import (
    AddProgress,
    Assign,
    Forward,
    Merge,
    ReportUp,
    Resolve,
    Return,
    SignFor,
)
from gridhub.domain.context import Context, Emitter
from gridhub.domain.matter import (
    OPEN_STATES,
    WORKING_STATES,
    Deadline,
    Matter,
    Owner,
    State,
    evolve,
)
from gridhub.domain.routing import (
    city_owner,
    co_handlers_for,
    forward_targets,
    next_tier_up,
    owner_exists,
)

HANDLING = frozenset({State.ASSIGNED, State.SIGNED_FOR, State.IN_PROGRESS})


def hand_over(
    m: Matter, owner: Owner, at: datetime, ctx: Context, co_handlers: tuple[str, ...] = ()
) -> Matter | str:
    """``m`` held by ``owner`` in state assigned, with fresh sign-for and resolve clocks."""
    category = ctx.city.categories.get(m.category)
    if category is None:
        return f"category {m.category!r} is not in the city data"
    gens = dict(m.generations)
    deadlines: dict[str, Deadline] = {}
    for kind, due in sla.deadlines_for(category, m.urgency, at, ctx.calendar).items():
        gens[kind] = gens.get(kind, 0) + 1
        deadlines[kind] = Deadline(due_at=due, generation=gens[kind], started_at=at)
    return evolve(
        m,
        owner=owner,
        tier=owner.tier,
        co_handlers=co_handlers,
        state=State.ASSIGNED,
        deadlines=deadlines,
        generations=gens,
        extension=None,
        signed_at=None,
        escalation_level=0,
    )


def dues(m: Matter) -> dict[str, datetime]:
    """The running deadlines of ``m`` by kind, for event payloads."""
    return {kind: d.due_at for kind, d in m.deadlines.items()}


def state_error(m: Matter, allowed: frozenset[State], what: str) -> str | None:
    if m.state in allowed:
        return None
    return f"cannot {what} a matter that is {m.state.value}"


def on_assign(m: Matter, c: Assign, ctx: Context, em: Emitter) -> Matter | str:
    if err := state_error(m, OPEN_STATES, "assign"):
        return err
    if not owner_exists(c.owner, ctx.city):
        return f"unknown owner {c.owner}"
    if c.owner == m.owner:
        return f"the matter is already held by {m.owner}"
    category = ctx.city.categories.get(m.category)
    co = co_handlers_for(c.owner, category) if category else ()
    new = hand_over(m, c.owner, c.at, ctx, co)
    if isinstance(new, str):
        return new
    em.emit(
        ev.Assigned,
        m.state,
        new.state,
        previous_owner=m.owner,
        tier=new.tier.value,
        deadlines=dues(new),
        note=c.note,
    )
    return new


def on_forward(m: Matter, c: Forward, ctx: Context, em: Emitter) -> Matter | str:
    if err := state_error(m, OPEN_STATES, "forward"):
        return err
    targets = forward_targets(c.departments, ctx.city)
    if isinstance(targets, str):
        return targets
    primary, co = targets
    if primary == m.owner and co == m.co_handlers:
        return f"the matter is already held by {primary}"
    new = hand_over(m, primary, c.at, ctx, co)
    if isinstance(new, str):
        return new
    em.emit(
        ev.Forwarded,
        m.state,
        new.state,
        previous_owner=m.owner,
        primary=primary.code,
        co_handlers=co,
        deadlines=dues(new),
        note=c.note,
    )
    return new


def on_sign_for(m: Matter, c: SignFor, ctx: Context, em: Emitter) -> Matter | str:
    if m.state != State.ASSIGNED:
        return f"only an assigned matter can be signed for (it is {m.state.value})"
    due = m.deadlines.get(sla.SIGN_FOR)
    on_time = due is None or c.at <= due.due_at
    deadlines = {k: d for k, d in m.deadlines.items() if k != sla.SIGN_FOR}
    new = evolve(m, state=State.SIGNED_FOR, deadlines=deadlines, signed_at=c.at)
    em.emit(ev.SignedFor, m.state, new.state, on_time=on_time)
    return new


def on_add_progress(m: Matter, c: AddProgress, ctx: Context, em: Emitter) -> Matter | str:
    if m.state not in WORKING_STATES:
        return f"progress needs a signed-for matter (it is {m.state.value}); sign for it first"
    if not c.note.strip():
        return "a progress note cannot be empty"
    new = evolve(m, state=State.IN_PROGRESS)
    em.emit(ev.ProgressAdded, m.state, new.state, note=c.note)
    return new


def on_resolve(m: Matter, c: Resolve, ctx: Context, em: Emitter) -> Matter | str:
    if m.state not in WORKING_STATES:
        return f"only a signed-for matter can be resolved (it is {m.state.value})"
    if not c.result.strip():
        return "a resolution needs a result"
    due = m.deadlines.get(sla.RESOLVE)
    on_time = not m.overdue and (due is None or c.at <= due.due_at)
    new = evolve(
        m,
        state=State.RESOLVED,
        deadlines={},
        extension=None,
        resolved_at=c.at,
        result=c.result,
        result_attachments=c.attachments,
        resolved_on_time=on_time,
    )
    em.emit(
        ev.Resolved, m.state, new.state, result=c.result, attachments=c.attachments, on_time=on_time
    )
    return new


def on_return(m: Matter, c: Return, ctx: Context, em: Emitter) -> Matter | str:
    if err := state_error(m, HANDLING, "return"):
        return err
    if not c.reason.strip():
        return "a return needs a reason"
    if m.owner.kind == "city":
        return "the city platform cannot return a matter; assign or forward it instead"
    new = hand_over(m, city_owner(ctx.city), c.at, ctx)
    if isinstance(new, str):
        return new
    em.emit(
        ev.Returned,
        m.state,
        new.state,
        reason=c.reason,
        previous_owner=m.owner,
        deadlines=dues(new),
    )
    return new


def on_report_up(m: Matter, c: ReportUp, ctx: Context, em: Emitter) -> Matter | str:
    if err := state_error(m, HANDLING, "report up"):
        return err
    if not c.reason.strip():
        return "a report-up needs a reason"
    up = next_tier_up(m.owner, m, ctx.city)
    if up is None:
        return "the city leader is the top tier; nothing above to report to"
    category = ctx.city.categories.get(m.category)
    co = co_handlers_for(up, category) if category else ()
    new = hand_over(m, up, c.at, ctx, co)
    if isinstance(new, str):
        return new
    em.emit(
        ev.ReportedUp,
        m.state,
        new.state,
        reason=c.reason,
        previous_owner=m.owner,
        co_handlers=co,
        deadlines=dues(new),
    )
    if m.owner.kind == "village":
        em.emit(
            ev.GridAlert,
            new.state,
            new.state,
            reason="cannot_solve",
            grid=m.grid,
            category=m.category,
            detail=c.reason,
        )
    return new


def on_merge(m: Matter, c: Merge, ctx: Context, em: Emitter) -> Matter | str:
    if err := state_error(m, OPEN_STATES, "merge"):
        return err
    if not c.into.strip() or c.into == m.id:
        return "merge needs another matter's id"
    new = evolve(m, state=State.MERGED, merged_into=c.into, deadlines={}, extension=None)
    em.emit(ev.Merged, m.state, new.state, into=c.into)
    return new

"""The orjson fast path produces the same JSON as the domain's reflective codec."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from gridhub.domain.commands import Whistle
from gridhub.domain.context import Context
from gridhub.domain.events import event_to_dict
from gridhub.domain.machine import apply
from gridhub.domain.matter import matter_from_dict
from streams import codec
from streams.processor import accept_command
from tests.streams.support import TOWNSHIP_ACTOR, intake_matter


def test_matter_and_events_match_the_domain_codec(ctx: Context) -> None:
    state, events = apply(None, accept_command(intake_matter("LIV-HEATING")), ctx)
    assert state is not None
    whistle = Whistle(
        matter_id=state.id,
        actor=TOWNSHIP_ACTOR,
        at=datetime.now(UTC),
        departments=("ZJJ", "GAJ"),
        report_in_due=datetime.now(UTC) + timedelta(hours=1),
    )
    state, more = apply(state, whistle, ctx)
    assert state is not None
    assert orjson.loads(codec.matter_bytes(state)) == state.to_dict()
    assert codec.matter_from_bytes(codec.matter_bytes(state)) == state
    assert matter_from_dict(orjson.loads(codec.matter_bytes(state))) == state
    for event in [*events, *more]:
        assert codec.event_dict(event) == event_to_dict(event)
        assert orjson.loads(codec.event_bytes(event)) == event_to_dict(event)


def test_sets_serialise_sorted() -> None:
    assert codec.dumps({"s": frozenset({"b", "a"})}) == b'{"s":["a","b"]}'

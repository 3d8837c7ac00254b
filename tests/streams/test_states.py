"""The matters table as states: bytes in the table, recent states decoded (streams.states)."""

from __future__ import annotations

import gc

from gridhub.domain.context import Context
from gridhub.domain.machine import apply
from gridhub.domain.matter import Matter
from streams import codec
from streams.processor import accept_command
from streams.states import MatterStates
from tests.streams.support import DictStore, intake_matter


def accepted(ctx: Context, category: str = "LIV-HEATING", matter_id: str | None = None) -> Matter:
    state, _ = apply(None, accept_command(intake_matter(category, matter_id=matter_id)), ctx)
    assert state is not None
    return state


def test_the_table_holds_bytes_the_gc_does_not_track(ctx: Context) -> None:
    store = DictStore()
    state = accepted(ctx)
    raw = MatterStates(store).keep(state)
    assert store.data[state.id.encode()] is raw
    assert raw == codec.matter_bytes(state)
    assert not gc.is_tracked(raw)


def test_a_kept_state_is_read_back_without_decoding(ctx: Context) -> None:
    states = MatterStates(DictStore())
    state = accepted(ctx)
    states.keep(state)
    assert states.get(state.id) is state
    assert states.get("M-never-seen") is None


def test_recovered_bytes_are_decoded_not_the_remembered_state(ctx: Context) -> None:
    """A changelog recovery puts new bytes under the key (maybe of a newer version another
    worker wrote): the state read is theirs, not the one remembered."""
    store = DictStore()
    states = MatterStates(store)
    old = accepted(ctx)
    newer = accepted(ctx, "TEST-DEPT", matter_id=old.id)
    assert newer != old
    states.keep(old)
    store.data[old.id.encode()] = codec.matter_bytes(newer)  # same key, a recovery's bytes
    read = states.get(old.id)
    assert read == newer
    assert states.get(old.id) is read  # now remembered


def test_a_state_no_longer_remembered_is_decoded_from_the_table(ctx: Context) -> None:
    states = MatterStates(DictStore(), decoded=2)
    first = accepted(ctx)
    states.keep(first)
    others = [accepted(ctx) for _ in range(5)]
    for other in others:
        states.keep(other)
    read = states.get(first.id)
    assert read == first
    assert read is not first

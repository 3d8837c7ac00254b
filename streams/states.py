"""The matters table read and written as states: bytes in the table, recent states decoded.

    states = MatterStates(table_store)
    states.get("M-1")            # Matter | None
    raw = states.keep(state)     # stores the state's changelog bytes, returns them to publish

The table holds each matter as its changelog record's bytes (what a recovery puts there
too), and only the states of recently used matters are kept decoded
(:class:`~streams.memo.Recent`). Holding every matter as objects made each full collection
of the cyclic GC, which stops the worker and its deadline firer, grow with the matters held:
after 200,000 matters one worker tracked 2.1 million objects, against 0.3 million with bytes
(counted by ``gc.get_objects()``).
"""

from __future__ import annotations

from typing import Protocol

from gridhub.domain.matter import Matter
from streams import codec
from streams.memo import Recent

#: decoded matter states remembered per generation (see :class:`~streams.memo.Recent`)
DECODED_STATES = 10_000


class Store(Protocol):
    """A table's side the runtime needs: a dict-like local store of bytes plus its changelog
    topic (the changelog record of ``key`` goes to the partition of the input it came from)."""

    topic: str

    def get(self, key: bytes) -> bytes | None: ...

    def keep(self, key: bytes, value: bytes) -> None:
        """Store ``value`` locally (its changelog record is published by the runtime)."""
        ...


class MatterStates:
    """The matters table as states (see the module doc)."""

    def __init__(self, store: Store, decoded: int = DECODED_STATES) -> None:
        self.store = store
        # by key: the bytes a state was decoded from (or encoded to), and the state
        self._decoded: Recent[bytes, tuple[bytes, Matter]] = Recent(decoded)

    def get(self, matter_id: str) -> Matter | None:
        """The stored state of a matter, or None for a matter the table does not hold."""
        key = matter_id.encode()
        raw = self.store.get(key)
        if raw is None:
            return None
        known = self._decoded.get(key)
        if known is not None and known[0] is raw:  # a recovery puts new bytes: decode those
            return known[1]
        state: Matter = codec.matter_from_bytes(raw)
        self._decoded.put(key, (raw, state))
        return state

    def keep(self, state: Matter) -> bytes:
        """Store ``state`` locally and return its bytes, for its changelog record."""
        key = state.id.encode()
        # A copy of exactly its length: held by the table, 200,000 of orjson's own results
        # took 1.6 GB (about 8 KB each), their copies 0.26 GB.
        raw = bytes(memoryview(codec.matter_bytes(state)))
        self.store.keep(key, raw)
        self._decoded.put(key, (raw, state))
        return raw

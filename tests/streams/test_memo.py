"""The bounded memo of recent entries (streams.memo)."""

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.memo import Recent


def test_an_entry_put_is_found_until_a_generation_of_newer_ones_passes() -> None:
    memo: Recent[str, int] = Recent(3)
    memo.put("a", 1)
    for key in ("b", "c", "d"):  # "d" starts a new generation; "a" is in the old one
        memo.put(key, 0)
    assert memo.get("a") == 1  # and is moved back into the young one
    for key in ("e", "f"):
        memo.put(key, 0)
    assert memo.get("a") == 1
    for key in ("g", "h", "i", "j", "k", "l"):
        memo.put(key, 0)
    assert memo.get("a") is None


def test_put_replaces_an_entry_of_either_generation() -> None:
    memo: Recent[str, int] = Recent(2)
    memo.put("a", 1)
    memo.put("b", 2)
    memo.put("c", 3)  # "a" and "b" now old
    memo.put("a", 4)
    assert memo.get("a") == 4
    assert len(memo) == 3  # "a" once, in the young generation


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Recent(0)


@given(
    size=st.integers(min_value=1, max_value=8),
    ops=st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=30)), max_size=200),
)
def test_bounded_and_never_wrong(size: int, ops: list[tuple[bool, int]]) -> None:
    """Whatever the sequence of puts and gets: at most two generations are held, a found
    entry is the latest value put, and the keys of the last ``size`` puts and hits are all
    still there."""
    memo: Recent[int, int] = Recent(size)
    latest: dict[int, int] = {}
    touched: list[int] = []
    for n, (is_put, key) in enumerate(ops):
        if is_put:
            memo.put(key, n)
            latest[key] = n
            touched.append(key)
        else:
            found = memo.get(key)
            assert found is None or found == latest[key]
            if found is not None:
                touched.append(key)
        assert len(memo) <= 2 * size
    for key in touched[-size:]:
        assert copy.deepcopy(memo).get(key) == latest[key]  # a get moves entries: on a copy

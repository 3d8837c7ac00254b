"""The CloudEvents binary-mode codec, without a broker."""

from datetime import UTC, datetime

import orjson
import pytest

from gridhub.cloudevents import CloudEvent, DecodeError, decode, encode, register


def _event() -> CloudEvent:
    register("test.thing", 2)
    return CloudEvent.new(
        "test.thing",
        2,
        source="/tests",
        subject="M1",
        data={"a": 1, "text": "<b>x</b>"},
        time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        extensions={"actor": "u1"},
    )


def test_round_trip_keeps_every_attribute() -> None:
    record = encode(_event())
    assert record.key == b"M1"
    headers = dict(record.headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"gridhub.test.thing.v2"
    assert headers["content-type"] == b"application/json"
    back = decode(record.value, record.headers)
    original = _event()
    assert back.data == {"a": 1, "text": "<b>x</b>"}
    assert (back.type, back.subject, back.source) == (original.type, "M1", "/tests")
    assert back.time == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert back.extensions == {"actor": "u1"}
    assert (back.name, back.version) == ("test.thing", 2)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h, v: ([x for x in h if x[0] != "ce_specversion"], v), "ce_specversion"),
        (lambda h, v: ([x for x in h if x[0] != "ce_id"], v), "ce_id is missing"),
        (
            lambda h, v: (
                [(k, b"gridhub.test.thing.v9" if k == "ce_type" else x) for k, x in h],
                v,
            ),
            "schema version from the future",
        ),
        (
            lambda h, v: ([(k, b"other" if k == "ce_type" else x) for k, x in h], v),
            "not of the form",
        ),
        (lambda h, v: (h, b"{not json"), "body is not JSON"),
        (lambda h, v: (h, orjson.dumps([1, 2])), "JSON object"),
        (lambda h, v: (h, None), "no body"),
        (lambda h, v: ([(k, b"\xff" if k == "ce_source" else x) for k, x in h], v), "not UTF-8"),
        (
            lambda h, v: ([(k, b"text/plain" if k == "content-type" else x) for k, x in h], v),
            "content-type",
        ),
        (lambda h, v: ([(k, b"yesterday" if k == "ce_time" else x) for k, x in h], v), "RFC 3339"),
    ],
)
def test_decode_names_what_is_wrong(mutate, reason: str) -> None:
    record = encode(_event())
    headers, value = mutate(record.headers, record.value)
    with pytest.raises(DecodeError, match=reason):
        decode(value, headers)

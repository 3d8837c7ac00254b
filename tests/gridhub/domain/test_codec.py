"""Commands, events and matter states survive the trip through JSON."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from gridhub.domain.codec import CodecError
from gridhub.domain.commands import (
    COMMAND_TYPES,
    AddProgress,
    Assign,
    Command,
    DeadlineDue,
    Forward,
    InvalidCommand,
    Rate,
    RequestExtension,
    Whistle,
    accept_from_intake,
    command_from_dict,
    command_to_dict,
)
from gridhub.domain.events import EVENT_TYPES, event_from_dict, event_to_dict
from gridhub.domain.machine import apply, rejected_from_invalid
from gridhub.domain.matter import Owner, ReporterInfo, matter_from_dict

from .support import CTX, OPERATOR, T0, accept, later, ok, run, village

SAMPLES: list[Command] = [
    accept(
        reporter=ReporterInfo(name="张三", phone="123"),
        attachments=("https://x/1.jpg",),
        lat=44.4,
        lon=126.9,
    ),
    Assign(matter_id="M1", actor=OPERATOR, at=T0, owner=Owner(kind="department", code="WATER")),
    Forward(matter_id="M1", actor=OPERATOR, at=T0, departments=("WATER", "URBAN")),
    AddProgress(matter_id="M1", actor=village("V1"), at=T0, note="n", command_id="c"),
    RequestExtension(
        matter_id="M1", actor=village("V1"), at=T0, reason="r", proposed_due=later(days=9)
    ),
    Rate(matter_id="M1", actor=OPERATOR, at=T0, rating="basically_satisfied"),
    Whistle(matter_id="M1", actor=OPERATOR, at=T0, departments=("URBAN",)),
    DeadlineDue(
        matter_id="M1",
        actor=OPERATOR,
        at=T0,
        warning_id="w",
        level="red",
        kind="resolve",
        generation=3,
    ),
]


@pytest.mark.parametrize("command", SAMPLES, ids=lambda c: c.type)
def test_command_round_trip(command: Command) -> None:
    d = json.loads(json.dumps(command_to_dict(command)))
    assert d["type"] == command.type
    assert command_from_dict(d) == command


def test_every_command_type_is_registered() -> None:
    assert len(COMMAND_TYPES) == 20
    assert {"accept", "deadline_due", "escalate_to_leader", "report_in"} <= set(COMMAND_TYPES)


def test_datetimes_come_back_as_utc() -> None:
    d = command_to_dict(SAMPLES[3])
    d["at"] = "2025-06-03T09:00:00+08:00"
    c = command_from_dict(d)
    assert isinstance(c, AddProgress) and c.at == T0 and c.at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ([], "JSON object"),
        ({"type": "explode"}, "unknown command type"),
        ({"matter_id": "M1"}, "unknown command type"),
        (
            {"type": "sign_for", "matter_id": "M1", "at": "2025-06-03T09:00:00+08:00"},
            "actor: missing",
        ),
        (
            {
                "type": "sign_for",
                "matter_id": "M1",
                "actor": {"user_id": "u", "role": "king"},
                "at": "2025-06-03T09:00:00+08:00",
            },
            "actor.role",
        ),
        (
            {
                "type": "sign_for",
                "matter_id": "M1",
                "actor": {"user_id": "u", "role": "system"},
                "at": "2025-06-03T09:00:00",
            },
            "time zone",
        ),
        (
            {
                "type": "sign_for",
                "matter_id": "M1",
                "actor": {"user_id": "u", "role": "system"},
                "at": "yesterday",
            },
            "ISO 8601",
        ),
        (
            {
                "type": "sign_for",
                "matter_id": "M1",
                "actor": {"user_id": "u", "role": "system"},
                "at": "2025-06-03T09:00:00Z",
                "colour": "red",
            },
            "unknown field 'colour'",
        ),
        (
            {
                "type": "rate",
                "matter_id": "M1",
                "actor": {"user_id": "u", "role": "system"},
                "at": "2025-06-03T09:00:00Z",
                "rating": "meh",
            },
            "rating",
        ),
        (
            {
                "type": "forward",
                "matter_id": "M1",
                "actor": {"user_id": "u", "role": "system"},
                "at": "2025-06-03T09:00:00Z",
                "departments": "WATER",
            },
            "expected a list",
        ),
        (
            {
                "type": "deadline_due",
                "matter_id": "M1",
                "actor": {"user_id": "u", "role": "system"},
                "at": "2025-06-03T09:00:00Z",
                "warning_id": "w",
                "level": "red",
                "kind": "resolve",
                "generation": "1",
            },
            "integer",
        ),
        (
            {
                "type": "decide_extension",
                "matter_id": "M1",
                "actor": {"user_id": "u", "role": "system"},
                "at": "2025-06-03T09:00:00Z",
                "approve": "yes",
            },
            "true or false",
        ),
    ],
)
def test_invalid_command_dicts(data: object, fragment: str) -> None:
    out = command_from_dict(data)
    assert isinstance(out, InvalidCommand)
    assert fragment in out.reason, out.reason


def test_invalid_command_becomes_rejected_event() -> None:
    out = command_from_dict({"type": "rate", "matter_id": "M7"})
    assert isinstance(out, InvalidCommand)
    r = rejected_from_invalid(out, T0)
    assert (r.matter_id, r.command_type, r.version) == ("M7", "rate", 0)
    assert "missing" in r.reason


def test_events_round_trip() -> None:
    _, events = run(
        None,
        accept(),
        Whistle(matter_id="M1", actor=OPERATOR, at=later(minutes=1), departments=("URBAN",)),
        Forward(matter_id="M1", actor=OPERATOR, at=later(minutes=2), departments=("WATER",)),
        Rate(matter_id="M1", actor=OPERATOR, at=later(minutes=3), rating="satisfied"),
    )
    assert {e.type for e in events} >= {"accepted", "assigned", "whistled", "forwarded", "rejected"}
    for e in events:
        d = json.loads(json.dumps(event_to_dict(e)))
        assert d["event_id"] == e.event_id
        assert event_from_dict(d) == e
    assert len(EVENT_TYPES) == 22


def test_unknown_event_type() -> None:
    with pytest.raises(CodecError):
        event_from_dict({"type": "nope"})


def test_matter_round_trip() -> None:
    m, _ = ok(None, accept(reporter=ReporterInfo(phone="1"), attachments=("https://a/b",)))
    m, _ = ok(
        m, Whistle(matter_id="M1", actor=OPERATOR, at=later(minutes=1), departments=("URBAN",))
    )
    m2 = matter_from_dict(json.loads(json.dumps(m.to_dict())))
    assert m2 == m
    # The rebuilt state keeps working.
    _, events = apply(
        m2,
        Forward(matter_id="M1", actor=OPERATOR, at=later(minutes=2), departments=("WATER",)),
        CTX,
    )
    assert events[0].type == "forwarded"


def test_accept_from_intake_dump() -> None:
    intake = {
        "matter_id": "MABC",
        "source": "hotline-12345",
        "source_id": "call-1",
        "received_at": "2025-06-03T09:00:00+08:00",
        "category": "ROAD",
        "urgency": "normal",
        "grid": "G1",
        "description": "pothole",
        "reporter": {"name": "李四", "phone": "139"},
        "attachments": ["https://example.org/a.jpg"],
        "solved_on_spot": False,
    }
    cmd = accept_from_intake(intake)
    assert not isinstance(cmd, InvalidCommand)
    assert cmd.at == T0 and cmd.actor.role == "system"
    assert cmd.reporter == ReporterInfo(name="李四", phone="139")
    m, _ = ok(None, cmd)
    assert m.id == "MABC" and m.to_public_dict()["reporter"] is None
    assert m.to_dict()["reporter"]["phone"] == "139"
    bad = accept_from_intake({**intake, "grid": 5})
    assert isinstance(bad, InvalidCommand) and "grid" in bad.reason

"""The codec of matters.commands: single commands and deadline.ticks records."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from gridhub.cloudevents import decode
from gridhub.commands_topic import (
    TICKS_TYPE,
    command_record,
    parse_command,
    parse_commands,
    ticks_record,
)
from gridhub.domain.commands import InvalidCommand, SignFor
from gridhub.domain.machine import due_command

AT = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)
IDS = ["MA:sign_for:1:yellow", "MB:resolve:2:red", "MC:report_in:ZJJ:1:escalate_1"]


def _event(record):  # type: ignore[no-untyped-def]
    return decode(record.value, record.headers)


def test_a_ticks_record_stands_for_one_deadline_due_per_warning_id_in_order() -> None:
    record = ticks_record(IDS, AT)
    assert record.key is None  # sent to the partition of its claim
    assert dict(record.headers)["ce_type"] == TICKS_TYPE.encode()
    commands = parse_commands(_event(record))
    assert commands == [due_command(wid, AT) for wid in IDS]
    assert [c.matter_id for c in commands] == ["MA", "MB", "MC"]  # type: ignore[union-attr]
    mc = commands[2]  # type: ignore[index]
    assert (mc.kind, mc.generation, mc.level) == ("report_in:ZJJ", 1, "escalate_1")
    assert all(c.actor.role == "system" and c.at == AT for c in commands)  # type: ignore[union-attr]


def test_a_single_command_record_is_a_list_of_one() -> None:
    cmd = SignFor(matter_id="MA", actor=due_command(IDS[0], AT).actor, at=AT, command_id="c1")
    event = _event(command_record(cmd))
    assert parse_commands(event) == [parse_command(event)]


def _tampered(data: dict) -> InvalidCommand:  # type: ignore[type-arg]
    record = ticks_record(IDS, AT)
    commands = parse_commands(decode(orjson.dumps(data), record.headers))
    assert isinstance(commands, InvalidCommand)
    return commands


def test_a_malformed_ticks_record_is_refused_naming_the_field() -> None:
    at = AT.isoformat()
    assert _tampered({"at": at, "warning_ids": []}).reason.startswith("warning_ids:")
    assert _tampered({"at": at}).reason.startswith("warning_ids:")
    assert _tampered({"at": "yesterday", "warning_ids": IDS}).reason.startswith("at:")
    assert _tampered({"at": "2026-11-29T06:00:00", "warning_ids": IDS}).reason == (
        "at: the time has no UTC offset"
    )
    bad = _tampered({"at": at, "warning_ids": [IDS[0], "not-a-warning"]})
    assert bad.reason.startswith("warning_ids[1]: not a warning id")
    assert _tampered({"at": at, "warning_ids": [IDS[0], 7]}).reason.startswith("warning_ids[1]:")

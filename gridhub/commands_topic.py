"""The one codec of ``matters.commands``: a record is a CloudEvent ``matter.command.v1``
(one command, keyed by its matter id) or ``deadline.ticks.v1`` (many timer ticks).

dispatch/ (API commands), the deadline firer (timer ticks) and streams/ (the reader) all go
through here, so the wire format lives in one place:

    record = command_record(cmd, source="/dispatch")     # key = matter id, id = command id
    producer.send(topics.commands, key=record.key, value=record.value, headers=record.headers)
    commands = parse_commands(decode(value, headers))    # [Command, ...] or InvalidCommand

A ``deadline.ticks.v1`` record carries the warnings one claim of the firer found due in one
partition of the deadline index, ``{"at": <ISO time>, "warning_ids": [...]}``, and is sent
without a key to that same partition of ``matters.commands`` (every matter of a partition of
the index lives in that partition). It stands for one ``DeadlineDue`` per warning id, in
that order: a wave of 1,500 warnings falling due together is a few records instead of
1,500, which is most of what the worker spent per tick outside the domain.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from gridhub.cloudevents import CloudEvent, KafkaRecord, encode, register
from gridhub.domain.commands import Command, InvalidCommand, command_from_dict, command_to_dict
from gridhub.domain.machine import due_command

COMMAND_EVENT = "matter.command"
COMMAND_VERSION = 1
COMMAND_TYPE = register(COMMAND_EVENT, COMMAND_VERSION)
TICKS_EVENT = "deadline.ticks"
TICKS_VERSION = 1
TICKS_TYPE = register(TICKS_EVENT, TICKS_VERSION)


def command_event(command: Command, source: str = "/gridhub") -> CloudEvent:
    """The CloudEvent of ``command``: subject (and Kafka key) = matter id, id = command id."""
    return CloudEvent.new(
        COMMAND_EVENT,
        COMMAND_VERSION,
        source=source,
        subject=command.matter_id,
        id=command.command_id or uuid.uuid4().hex,
        time=command.at,
        data=command_to_dict(command),
    )


def command_record(command: Command, source: str = "/gridhub") -> KafkaRecord:
    """``command`` encoded for Kafka (binary-mode CloudEvent keyed by matter id)."""
    return encode(command_event(command, source))


def parse_command(event: CloudEvent) -> Command | InvalidCommand:
    """The command carried by ``event``, or an :class:`InvalidCommand` saying why not.

    The subject, when present, must name the same matter as the body (one writer per matter
    relies on the key being the matter id).
    """
    if event.name != COMMAND_EVENT:
        return InvalidCommand(f"expected {COMMAND_TYPE}, got {event.type}")
    command = command_from_dict(event.data)
    if (
        isinstance(command, Command)
        and event.subject is not None
        and event.subject != command.matter_id
    ):
        return InvalidCommand(
            f"ce_subject {event.subject!r} is not the command's matter {command.matter_id!r}",
            command.type,
            command.matter_id,
        )
    return command


def ticks_record(
    warning_ids: Sequence[str], at: datetime, source: str = "/streams/deadlines"
) -> KafkaRecord:
    """Timer ticks for ``warning_ids`` (all of one partition) fired at ``at``, as one record
    without a key: send it to that partition of ``matters.commands``."""
    return encode(
        CloudEvent.new(
            TICKS_EVENT,
            TICKS_VERSION,
            source=source,
            time=at,
            data={"at": at.isoformat(), "warning_ids": list(warning_ids)},
        )
    )


def parse_commands(event: CloudEvent) -> list[Command] | InvalidCommand:
    """The commands a record of ``matters.commands`` carries, in order, or why it is not
    valid (a tick record is refused whole when any part of it is malformed)."""
    if event.name == TICKS_EVENT:
        return _parse_ticks(event)
    command = parse_command(event)
    return command if isinstance(command, InvalidCommand) else [command]


def _parse_ticks(event: CloudEvent) -> list[Command] | InvalidCommand:
    data = event.data
    ids = data.get("warning_ids")
    if not isinstance(ids, list) or not ids:
        return InvalidCommand("warning_ids: expected a non-empty list of warning ids")
    try:
        at = datetime.fromisoformat(str(data.get("at")))
    except ValueError:
        return InvalidCommand(f"at: not an ISO 8601 time: {data.get('at')!r}")
    if at.tzinfo is None:
        return InvalidCommand("at: the time has no UTC offset")
    out: list[Command] = []
    for i, wid in enumerate(ids):
        if not isinstance(wid, str):
            return InvalidCommand(f"warning_ids[{i}]: not a string: {wid!r}")
        try:
            out.append(due_command(wid, at))
        except ValueError as exc:
            return InvalidCommand(f"warning_ids[{i}]: {exc}")
    return out

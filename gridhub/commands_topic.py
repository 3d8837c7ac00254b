"""The one codec of ``matters.commands``: each command is a CloudEvent ``matter.command.v1``.

dispatch/ (API commands), the deadline firer (``DeadlineDue`` ticks) and streams/ (the
reader) all go through here, so the wire format lives in one place:

    record = command_record(cmd, source="/dispatch")     # key = matter id, id = command id
    producer.send(topics.commands, key=record.key, value=record.value, headers=record.headers)
    cmd = parse_command(decode(value, headers))          # a Command, or InvalidCommand + reason
"""

from __future__ import annotations

import uuid

from gridhub.cloudevents import CloudEvent, KafkaRecord, encode, register
from gridhub.domain.commands import Command, InvalidCommand, command_from_dict, command_to_dict

COMMAND_EVENT = "matter.command"
COMMAND_VERSION = 1
COMMAND_TYPE = register(COMMAND_EVENT, COMMAND_VERSION)


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

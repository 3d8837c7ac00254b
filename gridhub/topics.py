"""Kafka topic names, in one place. Every name takes the settings' ``topic_prefix``."""

from __future__ import annotations

from dataclasses import dataclass

from gridhub.settings import Settings

INTAKE = "matters.intake"
COMMANDS = "matters.commands"
EVENTS = "matters.events"
ALERTS = "alerts"
WALLBOARD = "wallboard.updates"
DEAD_LETTER = "deadletter"
TOKENS = "auth.tokens"
DEPT_PREFIX = "dept."


@dataclass(frozen=True)
class Topics:
    """The concrete topic names for one deployment (or one test), from its prefix."""

    prefix: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> Topics:
        return cls(settings.topic_prefix)

    @property
    def intake(self) -> str:
        return self.prefix + INTAKE

    @property
    def commands(self) -> str:
        return self.prefix + COMMANDS

    @property
    def events(self) -> str:
        return self.prefix + EVENTS

    @property
    def alerts(self) -> str:
        return self.prefix + ALERTS

    @property
    def wallboard(self) -> str:
        return self.prefix + WALLBOARD

    @property
    def dead_letter(self) -> str:
        return self.prefix + DEAD_LETTER

    @property
    def tokens(self) -> str:
        """The durable record of API tokens (compacted; key = the token's SHA-256)."""
        return self.prefix + TOKENS

    def department(self, code: str) -> str:
        """The queue topic of one department, e.g. ``dept.ZJJ``."""
        return f"{self.prefix}{DEPT_PREFIX}{code}"

    def core(self) -> list[str]:
        """Every fixed topic (not the per-department ones)."""
        return [
            self.intake,
            self.commands,
            self.events,
            self.alerts,
            self.wallboard,
            self.dead_letter,
            self.tokens,
        ]

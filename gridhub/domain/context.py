"""What :func:`gridhub.domain.machine.apply` needs besides the state and the command."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gridhub.domain.calendar import WorkCalendar
from gridhub.domain.events import Event
from gridhub.domain.hierarchy import City
from gridhub.domain.sla import WarningPolicy


@dataclass(frozen=True)
class Context:
    """The city, its working-day calendar and the warning policy. Build once, share."""

    city: City
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    policy: WarningPolicy = field(default_factory=WarningPolicy)


@dataclass
class Emitter:
    """Collects the events a transition produces; ``apply`` stamps version, owner and ids."""

    specs: list[tuple[type[Event], str, str, dict[str, Any]]] = field(default_factory=list)

    def emit(self, cls: type[Event], before: str, after: str, **payload: Any) -> None:
        """Record one event of type ``cls`` moving the state from ``before`` to ``after``."""
        self.specs.append((cls, before, after, payload))

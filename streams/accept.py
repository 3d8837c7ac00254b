"""The domain command for an intake record: :func:`accept_command`."""

from __future__ import annotations

from gridhub.domain.commands import SYSTEM, Accept
from gridhub.domain.matter import ReporterInfo
from gridhub.intake import IntakeMatter


def accept_command(m: IntakeMatter) -> Accept:
    """The Accept for an intake record (the clocks start at ``received_at``)."""
    reporter = None
    if m.reporter is not None:
        reporter = ReporterInfo(
            name=m.reporter.name, phone=m.reporter.phone, email=m.reporter.email
        )
    return Accept(
        matter_id=m.matter_id,
        actor=SYSTEM,
        at=m.received_at,
        source=m.source.value,
        source_id=m.source_id,
        received_at=m.received_at,
        category=m.category,
        grid=m.grid,
        description=m.description,
        urgency=m.urgency,
        address=m.address,
        lat=m.lat,
        lon=m.lon,
        reporter=reporter,
        attachments=tuple(str(a) for a in m.attachments),
        worker_id=m.worker_id,
        solved_on_spot=m.solved_on_spot,
        result=m.result,
    )

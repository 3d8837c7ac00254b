"""Run the intake service: ``python -m connectors`` on ``GRIDHUB_HOST:GRIDHUB_INTAKE_PORT``."""

from __future__ import annotations

import uvicorn

from connectors.app import create_app
from gridhub.settings import get_settings


def main() -> None:
    """Serve the intake app with uvicorn until interrupted."""
    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.intake_port,
        # not uvicorn's "auto" (uvloop, installed for streams/): under 3x overload intake
        # on uvloop left ~6,000 of ~50,000 calls without an answer (tests/reliability/test_overload)
        loop="asyncio",
        log_level=settings.log_level.lower(),
    )


if __name__ == "__main__":
    main()

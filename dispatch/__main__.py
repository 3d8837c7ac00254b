"""``python -m dispatch``: serve the API on ``settings.host:settings.dispatch_port``.

``python -m dispatch webhooks`` runs only the webhook deliverer (then start the API with
``GRIDHUB_DISPATCH_WEBHOOKS=false``).
"""

from __future__ import annotations

import asyncio
import logging
import sys

import redis.asyncio as aioredis
import uvicorn

from dispatch.app import create_app
from dispatch.webhooks import WebhookDeliverer
from gridhub.citydata import load_city
from gridhub.settings import Settings, SettingsError, get_settings


async def _webhooks(settings: Settings) -> None:
    redis = aioredis.from_url(str(settings.redis_url))
    try:
        await WebhookDeliverer(settings, load_city(settings.city_file), redis).run()
    finally:
        await redis.aclose()


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``serve`` (default) or ``webhooks``."""
    args = sys.argv[1:] if argv is None else argv
    try:
        settings = get_settings()
    except SettingsError as exc:
        sys.exit(str(exc))
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    if args[:1] == ["webhooks"]:
        asyncio.run(_webhooks(settings))
        return
    if args and args[0] not in ("serve",):
        sys.exit("usage: python -m dispatch [serve|webhooks]")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.dispatch_port,
        # not uvicorn's "auto" (uvloop, installed for streams/): under 3x overload intake
        # on uvloop left ~6,000 of ~50,000 calls without an answer (tests/reliability/test_overload)
        loop="asyncio",
        log_level=settings.log_level.lower(),
    )


if __name__ == "__main__":
    main()

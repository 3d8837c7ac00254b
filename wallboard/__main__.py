"""Run the wallboard: ``python -m wallboard`` (gateway, which also campaigns to run the feeder)
or ``python -m wallboard feeder`` (only the feeder) or ``python -m wallboard gateway
--no-feeder`` (a gateway that leaves feeding to others). Settings come from ``GRIDHUB_*``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

import redis.asyncio as aioredis

from gridhub.citydata import load_city
from gridhub.settings import SettingsError, get_settings
from wallboard.app import create_gateway
from wallboard.feeder import Feeder, FeederLeader


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run_gateway(feeder: bool) -> None:
    """Serve until SIGINT/SIGTERM."""
    gateway = create_gateway(get_settings(), run_feeder=feeder)
    await gateway.start()
    try:
        await _until_signalled()
    finally:
        await gateway.stop()


async def run_feeder() -> None:
    """Feed the stream (behind the same lock as the gateways) until SIGINT/SIGTERM."""
    settings = get_settings()
    redis = aioredis.from_url(str(settings.redis_url))
    leader = FeederLeader(Feeder(settings, load_city(settings.city_file), redis))
    task = asyncio.create_task(leader.run())
    try:
        await _until_signalled()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await redis.aclose()


def main() -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(prog="python -m wallboard", description=__doc__)
    parser.add_argument("role", nargs="?", default="gateway", choices=["gateway", "feeder"])
    parser.add_argument("--no-feeder", action="store_true", help="gateway only")
    args = parser.parse_args()
    try:
        settings = get_settings()
    except SettingsError as exc:
        raise SystemExit(str(exc)) from None
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.role == "feeder":
        asyncio.run(run_feeder())
    else:
        asyncio.run(run_gateway(feeder=not args.no_feeder))


if __name__ == "__main__":
    main()

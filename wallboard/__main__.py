"""Run the wallboard: ``python -m wallboard`` (gateway, which also campaigns to run the feeder)
or ``python -m wallboard feeder`` (only the feeder) or ``python -m wallboard gateway
--no-feeder`` (a gateway that leaves feeding to others). ``--feeder-standby`` makes a gateway
wait for the lock's lifetime before it campaigns, so a dedicated feeder process started next
to it feeds and the gateway only takes over when that process dies (what
``scripts/services.sh`` runs). The feeder process also computes the hub summaries unless
given ``--no-summaries``; ``python -m wallboard summarizer`` computes only those, in a
process of its own. Settings come from ``GRIDHUB_*``."""

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
from wallboard.feeder import LOCK_TTL_MS, Feeder, FeederLeader, Leader, SummarizerLeader
from wallboard.summaries import Summarizer


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run_gateway(feeder: bool, standby: bool = False) -> None:
    """Serve until SIGINT/SIGTERM."""
    gateway = create_gateway(
        get_settings(), run_feeder=feeder, feeder_standby=LOCK_TTL_MS / 1000 if standby else 0.0
    )
    await gateway.start()
    try:
        await _until_signalled()
    finally:
        await gateway.stop()


async def run_feeder(summaries: bool = True) -> None:
    """Feed the stream (behind the same lock as the gateways) until SIGINT/SIGTERM; also
    compute the hub summaries (behind their own lock) unless ``summaries`` is False."""
    settings = get_settings()
    redis = aioredis.from_url(str(settings.redis_url))
    city = load_city(settings.city_file)
    leaders: list[Leader] = [FeederLeader(Feeder(settings, city, redis))]
    if summaries:
        leaders.append(SummarizerLeader(Summarizer(settings, city, redis)))
    await _run_leaders(redis, leaders)


async def run_summarizer() -> None:
    """Compute the hub summaries every gateway sends (behind their lock) until signalled."""
    settings = get_settings()
    redis = aioredis.from_url(str(settings.redis_url))
    summarizer = Summarizer(settings, load_city(settings.city_file), redis)
    await _run_leaders(redis, [SummarizerLeader(summarizer)])


async def _run_leaders(redis: aioredis.Redis, leaders: list[Leader]) -> None:
    tasks = [asyncio.create_task(leader.run()) for leader in leaders]
    try:
        await _until_signalled()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await redis.aclose()


def main() -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(prog="python -m wallboard", description=__doc__)
    parser.add_argument(
        "role", nargs="?", default="gateway", choices=["gateway", "feeder", "summarizer"]
    )
    parser.add_argument("--no-feeder", action="store_true", help="gateway only")
    parser.add_argument(
        "--feeder-standby",
        action="store_true",
        help="campaign for the feeder only after a grace period (a feeder process runs too)",
    )
    parser.add_argument(
        "--no-summaries",
        action="store_true",
        help="feeder only: leave the hub summaries to `python -m wallboard summarizer`",
    )
    args = parser.parse_args()
    try:
        settings = get_settings()
    except SettingsError as exc:
        raise SystemExit(str(exc)) from None
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.role == "feeder":
        asyncio.run(run_feeder(summaries=not args.no_summaries))
    elif args.role == "summarizer":
        asyncio.run(run_summarizer())
    else:
        asyncio.run(run_gateway(feeder=not args.no_feeder, standby=args.feeder_standby))


if __name__ == "__main__":
    main()

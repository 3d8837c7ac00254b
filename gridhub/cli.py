"""The ``gridhub`` command line: ``gridhub --help`` lists what it can do.

Each command reads the one settings object from the environment; nothing connects at import.
Services add their own sub-commands in :func:`main` so this file stays a table of contents.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gridhub.citydata import city_summary, load_city
from gridhub.settings import SettingsError, get_settings

app = typer.Typer(
    help="gridhub: real-time command and dispatch for grid-based city governance.",
    no_args_is_help=True,
    add_completion=False,
)
topics_app = typer.Typer(help="Kafka topics.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
token_app = typer.Typer(
    help="API and WebSocket tokens (stored hashed: in Kafka, the durable record, and Redis).",
    no_args_is_help=True,
)
app.add_typer(token_app, name="token")
console = Console()


@app.command()
def city() -> None:
    """Load the city data file, check it, and print its counts."""
    settings = get_settings()
    console.print(city_summary(load_city(settings.city_file)))


@topics_app.command("create")
def topics_create() -> None:
    """Create every gridhub topic (fixed ones and one per department) that does not exist."""
    from gridhub.kafka_admin import all_topics, ensure_topics
    from gridhub.topics import Topics

    settings = get_settings()
    names = all_topics(Topics.from_settings(settings), load_city(settings.city_file))
    ensure_topics(settings, names)
    console.print(f"[green]topics ready[/green]: {len(names)} on {settings.kafka_bootstrap}")


def _redis_and_keys():  # type: ignore[no-untyped-def]
    import redis.asyncio as aioredis

    from gridhub.keys import RedisKeys

    settings = get_settings()
    return settings, aioredis.from_url(str(settings.redis_url)), RedisKeys(settings.redis_prefix)


@token_app.command("issue")
def token_issue(
    user: str = typer.Option(..., help="who holds the token, e.g. a staff id"),
    role: str = typer.Option(
        ...,
        help="city_operator, supervisor, leader, township_hub, "
        "village_hub, department, grid_worker, auditor or intake",
    ),
    scope: str = typer.Option("", help="township, village, department or grid code"),
    ttl: int = typer.Option(0, help="lifetime in seconds; 0 = until revoked"),
) -> None:
    """Issue a token and print it once; only its hash is stored."""
    import asyncio

    from gridhub.auth import TokenError, check_scope, issue_token
    from gridhub.token_log import TokenLog

    settings, redis, keys = _redis_and_keys()
    city = load_city(settings.city_file)

    async def run() -> str:
        try:
            check_scope(city, role, scope)  # refuse before connecting to Kafka
            async with TokenLog(settings) as log:
                raw, _ = await issue_token(
                    redis,
                    keys,
                    city,
                    user=user,
                    role=role,
                    scope_code=scope,
                    ttl_seconds=ttl or None,
                    log=log,
                )
            return raw
        finally:
            await redis.aclose()

    try:
        console.print(asyncio.run(run()))
    except TokenError as exc:
        console.print(f"[red]{exc}[/red]")
        raise SystemExit(2) from None


@token_app.command("list")
def token_list() -> None:
    """List live tokens: id, holder, role and scope (never the token itself)."""
    import asyncio

    from gridhub.auth import list_tokens

    _, redis, keys = _redis_and_keys()

    async def run() -> None:
        try:
            for p in await list_tokens(redis, keys):
                scope = f"{p.scope_kind}:{p.scope_code}" if p.scope_code else p.scope_kind
                console.print(f"{p.token_id}  {p.role:<14} {scope:<22} {p.user}")
        finally:
            await redis.aclose()

    asyncio.run(run())


@token_app.command("revoke")
def token_revoke(token_id: str) -> None:
    """Revoke a token by the id that ``gridhub token list`` shows (for good: the revocation
    is recorded in Kafka, so a restore of Redis does not bring the token back)."""
    import asyncio

    from gridhub.auth import revoke_token
    from gridhub.token_log import TokenLog

    settings, redis, keys = _redis_and_keys()

    async def run() -> bool:
        try:
            async with TokenLog(settings) as log:
                return await revoke_token(redis, keys, token_id, log=log)
        finally:
            await redis.aclose()

    if not asyncio.run(run()):
        console.print(f"[red]no token with id {token_id}[/red]")
        raise SystemExit(1)
    console.print(f"revoked {token_id}")


@app.command("import")
def import_calls(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="CSV or JSON-lines call-centre export"
        ),
    ],
    source: Annotated[str, typer.Option(help="hotline-12345 or hotline-business")],
    report: Annotated[
        Path | None,
        typer.Option(help="where to write rejected lines (default FILE.rejected.jsonl)"),
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=2048, help="lines in flight at once")
    ] = 128,
    max_pause: Annotated[
        float, typer.Option(help="seconds to wait for Kafka before stopping")
    ] = 900.0,
) -> None:
    """Import call records from a file: accepted / duplicate / rejected, with reasons."""
    import asyncio

    from connectors.importer import ImportAborted, import_file, summary_lines
    from gridhub.intake import Source

    try:
        kind = Source(source)
        summary = asyncio.run(
            import_file(
                file,
                kind,
                get_settings(),
                report=report,
                concurrency=concurrency,
                max_pause_seconds=max_pause,
                console=console,
            )
        )
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise SystemExit(2) from None
    except ImportAborted as exc:
        for line in summary_lines(exc.summary):
            console.print(line)
        console.print(f"[red]stopped: {exc}; re-run the same command to go on[/red]")
        raise SystemExit(1) from None
    for line in summary_lines(summary):
        console.print(line)


@app.command()
def simulate(
    scenario: Annotated[
        str, typer.Option(help="bundled name (default, shulan-2021-2022) or a YAML path")
    ] = "default",
    rate: Annotated[
        float | None, typer.Option(min=0.001, help="matters per real second (replay: a cap)")
    ] = None,
    duration: Annotated[
        float, typer.Option(min=0, help="stop after this many real seconds; 0 = until done")
    ] = 0.0,
    accel: Annotated[
        float | None,
        typer.Option(min=0.001, help="simulated seconds per real second (1440 = 1 day/min)"),
    ] = None,
    live: Annotated[
        bool, typer.Option("--live", help="matters received now (never back-dated)")
    ] = False,
    scale: Annotated[
        float, typer.Option(min=0.0001, max=1.0, help="replay totals × this (e.g. 0.02)")
    ] = 1.0,
    seed: Annotated[int | None, typer.Option(help="random seed (default: the scenario's)")] = None,
    intake_url: Annotated[str | None, typer.Option(help="default http://HOST:INTAKE_PORT")] = None,
    dispatch_url: Annotated[str | None, typer.Option(help="default GRIDHUB_DISPATCH_URL")] = None,
    wallboard_url: Annotated[
        str | None, typer.Option(help="default ws://HOST:WALLBOARD_PORT/ws")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=1024, help="requests in flight")] = 32,
) -> None:
    """Simulate matters and every other actor through the public APIs; a replay scenario
    ends with the dispatch API's report next to its expected totals."""
    import asyncio
    import logging

    from gridhub.simulate.runner import RunOptions, print_result, run
    from gridhub.simulate.scenario import ScenarioError, load_scenario

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    options = RunOptions(
        scenario=scenario,
        rate=rate,
        duration=duration,
        accel=accel,
        live=live,
        scale=scale,
        seed=seed,
        intake_url=intake_url,
        dispatch_url=dispatch_url,
        wallboard_url=wallboard_url,
        concurrency=concurrency,
    )
    try:
        loaded = load_scenario(scenario)
        result = asyncio.run(run(get_settings(), options, console))
    except ScenarioError as exc:
        console.print(f"[red]{exc}[/red]")
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    if not print_result(result, loaded, console):
        raise SystemExit(1)


@app.command()
def rebuild(
    wait: Annotated[
        float, typer.Option(help="seconds to wait for a running worker to rebuild (0: now)")
    ] = 120.0,
    here: Annotated[
        bool, typer.Option("--here", help="rebuild in this process (stop every worker first)")
    ] = False,
) -> None:
    """Rebuild the Redis projections (matters, queues, timelines, KPIs, alerts, deadlines)
    and restore the tokens from Kafka. A running stream worker is asked to do it (it pauses
    its agent meanwhile); with no worker running, or with --here, it is done here."""
    import asyncio
    import time

    import orjson

    from streams.rebuild import rebuild as run_rebuild
    from streams.rebuild import workers_running

    settings, redis, keys = _redis_and_keys()

    async def go() -> dict[str, object]:
        try:
            if not here and await asyncio.to_thread(workers_running, settings):
                await redis.delete(keys.projection_marker())
                console.print("a stream worker is running: it rebuilds now; waiting for it")
                deadline = time.monotonic() + wait
                while time.monotonic() < deadline:
                    raw = await redis.get(keys.projection_marker())
                    if raw:
                        found: dict[str, object] = orjson.loads(raw)
                        return found
                    await asyncio.sleep(0.5)
                raise SystemExit(f"no rebuild within {wait:.0f} s; is the worker stuck?")
            return (await run_rebuild(settings, redis)).as_dict()
        finally:
            await redis.aclose()

    report = asyncio.run(go())
    console.print(
        f"[green]projections rebuilt[/green]: {report['records']} records, "
        f"{report['matters']} matters, {report['events']} events, {report['timers']} timers, "
        f"{report.get('tokens', 0)} tokens in {report['seconds']:.1f} s "
        f"({report['records_per_second']} records/s)"
    )


def main() -> None:
    """Entry point of the ``gridhub`` console script."""
    try:
        app()
    except SettingsError as exc:
        console.print(f"[red]{exc}[/red]")
        raise SystemExit(2) from None

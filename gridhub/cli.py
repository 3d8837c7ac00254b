"""The ``gridhub`` command line: ``gridhub --help`` lists what it can do.

Each command reads the one settings object from the environment; nothing connects at import.
Services add their own sub-commands in :func:`main` so this file stays a table of contents.
"""

from __future__ import annotations

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


def main() -> None:
    """Entry point of the ``gridhub`` console script."""
    try:
        app()
    except SettingsError as exc:
        console.print(f"[red]{exc}[/red]")
        raise SystemExit(2) from None

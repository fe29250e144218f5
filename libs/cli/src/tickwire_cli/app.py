"""The command tree: global options here, each command group in tickwire_cli.commands."""

from __future__ import annotations

from typing import Annotated

import typer

from tickwire_cli import __version__
from tickwire_cli.context import Env
from tickwire_cli.output import setup_logging

app = typer.Typer(
    name="tickwire",
    help="tickwire: market data in, cleaned ticks, signals and history out.\n\n"
    "Example: tickwire run, then in another terminal: tickwire tail ticks --follow",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tickwire {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    bootstrap_servers: Annotated[
        str | None,
        typer.Option(
            "--bootstrap-servers",
            envvar="KAFKA_BOOTSTRAP_SERVERS",
            help="Kafka brokers (default: the local run's).",
            show_envvar=True,
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="DATABASE_URL",
            help="PostgreSQL/TimescaleDB URL (default: the local run's).",
            show_envvar=True,
        ),
    ] = None,
    topic_prefix: Annotated[
        str | None,
        typer.Option(
            "--topic-prefix", envvar="TICKWIRE_TOPIC_PREFIX", help="Prefix of every topic name."
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option("--log-level", envvar="TICKWIRE_LOG_LEVEL", help="Log level.")
    ] = "INFO",
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    setup_logging(log_level.upper())
    ctx.obj = Env.build(bootstrap_servers, database_url, topic_prefix)


def _register() -> None:
    # Each group registers its own commands; imports stay light until a command runs.
    from tickwire_cli.commands import (
        backfill,
        deadletters,
        lake,
        migrate,
        quality,
        replay,
        stack,
        status,
        tail,
        topics,
    )

    stack.register(app)
    status.register(app)
    topics.register(app)
    migrate.register(app)
    tail.register(app)
    replay.register(app)
    deadletters.register(app)
    backfill.register(app)
    lake.register(app)
    quality.register(app)


_register()

"""`tickwire run | stop`: the local run (its own Kafka and TimescaleDB unless others are named,
every service on the simulator feed, the API) in the foreground, and stopping it from outside."""

from __future__ import annotations

from typing import Annotated

import typer

from tickwire_cli.context import Env
from tickwire_cli.errors import CliError
from tickwire_cli.output import help_from
from tickwire_core.errors import StackError
from tickwire_core.localstack import runner


def run(
    ctx: typer.Context,
    replica: Annotated[
        bool,
        typer.Option(
            "--replica",
            help="Also run a replica ingest instance of the same feed (health port "
            "TICKWIRE_INGEST_REPLICA_HEALTH_PORT, default 18085); normalize keeps each "
            "update once.",
        ),
    ] = False,
) -> None:
    """Run the whole pipeline locally on the simulator feed, until Ctrl-C.

    Its own Kafka and TimescaleDB (unless KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL name others),
    every service and the API. State and logs go to TICKWIRE_STATE_DIR (default .tickwire/);
    ports move with TICKWIRE_KAFKA_PORT, TICKWIRE_PG_PORT, TICKWIRE_API_PORT and
    TICKWIRE_<SERVICE>_HEALTH_PORT. The database runs the full TimescaleDB build where installed;
    TICKWIRE_TIMESCALEDB_LICENSE=apache picks the Apache-only one.

    A service that exits is started again after a backoff (TICKWIRE_RESTART_BACKOFF_S, default
    1 s, doubling up to TICKWIRE_RESTART_BACKOFF_MAX_S, 30 s); one that exits
    TICKWIRE_CRASH_LOOP_EXITS times (5) within TICKWIRE_CRASH_LOOP_WINDOW_S (300 s) is left
    stopped as crash-looping while the rest runs on; `tickwire status` shows both. Kafka or
    PostgreSQL exiting stops the run.

    Example: tickwire run   (then, in another terminal: tickwire status)
    """
    env: Env = ctx.obj
    try:
        runner.run(
            env.local,
            bootstrap_servers=env.bootstrap_servers if env.kafka_named else None,
            database_url=env.database_url if env.database_named else None,
            say=typer.echo,
            replica=replica,
        )
    except StackError as exc:
        # The first line names what failed and its log; the log's tail stays in the log.
        raise CliError(str(exc).splitlines()[0]) from None


def stop(ctx: typer.Context) -> None:
    """Stop the local run, and whatever a crashed run left behind.

    The runner first (it stops its services, Kafka and PostgreSQL in order), then anything else
    recorded in the state dir's pid files.

    Example: tickwire stop
    """
    env: Env = ctx.obj
    stopped = runner.stop_all(env.local.state_dir)
    typer.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


def register(app: typer.Typer) -> None:
    app.command("run", help=help_from(run.__doc__))(run)
    app.command("stop", help=help_from(stop.__doc__))(stop)

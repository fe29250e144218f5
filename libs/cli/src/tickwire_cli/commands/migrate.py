"""`tickwire migrate`: the sink's schema migrations, applied ahead of the sink (a deploy's migration
job). Needs only the database; the migrations ship with tickwire_sink, imported when it runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
import typer

from tickwire_cli.context import Env
from tickwire_cli.errors import CliError
from tickwire_cli.job_runs import has_job_log, job_run, record_run
from tickwire_cli.output import help_from

logger = logging.getLogger("tickwire.cli.migrate")

JOB = "migrate"


def migrate(ctx: typer.Context) -> None:
    """Apply the database schema migrations it lacks, then exit.

    Needs only DATABASE_URL (a role that owns the schema); the sink applies the same migrations at
    start-up, so running both is safe. Prints the versions applied now ("applied: none" when the
    schema is up to date). Each run is logged in job_runs as job `migrate` (`tickwire status`), a
    first run once its migrations created that table. Exit code: 0 up to date, 1 the database
    failed or cannot be reached, 2 a malformed URL or arguments.

    Example: DATABASE_URL=postgresql://tickwire:...@db:5432/tickwire tickwire migrate
    """
    env: Env = ctx.obj
    try:
        from tickwire_sink.adapters.migrations import migrate as apply_migrations
    except ImportError:
        raise CliError(
            "the migrations are not installed here (they ship with tickwire_sink)",
            hint="run it where the sink is installed: the workspace, or the sink's image",
        ) from None
    with env.connect_db() as conn:
        logged = has_job_log(conn)
        conn.commit()  # the migrations' transaction is their own, not a savepoint in this one
        if logged:
            with job_run(env.database_url, JOB, {}) as run:
                applied = _apply(env, conn, apply_migrations)
                run.rows = len(applied)
        else:
            # The run itself creates job_runs (all migrations are one transaction): it is logged
            # once it has; a first run that fails leaves no table to log in.
            started = datetime.now(UTC)
            applied = _apply(env, conn, apply_migrations)
            record_run(env.database_url, JOB, {}, started_at=started, rows=len(applied))
    logger.info("database schema up to date (applied now: %s)", applied or "none")
    typer.echo(f"applied: {' '.join(map(str, applied)) or 'none'}")


def _apply(
    env: Env, conn: psycopg.Connection[Any], apply: Callable[[psycopg.Connection[Any]], list[int]]
) -> list[int]:
    try:
        return apply(conn)
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CliError(f"migrations failed on {env.database_display()}: {first}") from None


def register(app: typer.Typer) -> None:
    app.command("migrate", help=help_from(migrate.__doc__))(migrate)

"""The log of batch jobs: every run of a batch command (backfill, lake export, quality, migrate,
topic checks) is one job_runs row, written on a connection of its own so the log survives the
job's own rollbacks; `job_run()` opens the row, and closes it with how the run ended."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg

from tickwire_cli.errors import CliError

logger = logging.getLogger("tickwire.cli.jobs")

RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
INTERRUPTED = "interrupted"


@dataclass
class JobRun:
    """The run being logged. `rows` is what the job reports as its output size when it ends."""

    id: int
    job: str
    rows: int | None = None


def _arguments_json(arguments: Mapping[str, object]) -> str:
    # Dates, paths and the like are logged as their text: the log is for people and dashboards.
    return json.dumps(dict(arguments), default=str, sort_keys=True)


def _open(conn: psycopg.Connection[Any], job: str, arguments: Mapping[str, object]) -> int:
    if conn.execute("SELECT to_regclass('job_runs')").fetchone() in (None, (None,)):
        raise CliError("the database has no job_runs table", hint="run `tickwire migrate` first")
    row = conn.execute(
        "INSERT INTO job_runs (job, arguments, host) VALUES (%s, %s::jsonb, %s) RETURNING id",
        (job, _arguments_json(arguments), socket.gethostname()),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _close(conn: psycopg.Connection[Any], run: JobRun, status: str, error: str | None) -> None:
    conn.execute(
        "UPDATE job_runs SET status = %s, rows = %s, error = %s, finished_at = now() WHERE id = %s",
        (status, run.rows, error, run.id),
    )


@contextmanager
def job_run(database_url: str, job: str, arguments: Mapping[str, object]) -> Iterator[JobRun]:
    """Log one run of `job`: `succeeded` when the block returns, `interrupted` on Ctrl-C or
    SIGTERM (raised as KeyboardInterrupt / SystemExit), `failed` with the error's text otherwise.
    The exception, if any, goes on to the caller unchanged."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        run = JobRun(id=_open(conn, job, arguments), job=job)
        logger.info("job started job=%s run=%d", job, run.id)
        try:
            yield run
        except (KeyboardInterrupt, SystemExit) as exc:
            code = getattr(exc, "code", None)
            if isinstance(exc, SystemExit) and code in (0, None):
                _close(conn, run, SUCCEEDED, None)
            else:
                _close(conn, run, INTERRUPTED, type(exc).__name__)
            raise
        except BaseException as exc:
            if getattr(exc, "exit_code", None) == 0:  # typer.Exit(0): a run that ended early, well
                _close(conn, run, SUCCEEDED, None)
                raise
            message = exc.message if isinstance(exc, CliError) else str(exc) or type(exc).__name__
            _close(conn, run, FAILED, message)
            raise
        _close(conn, run, SUCCEEDED, None)
        logger.info("job finished job=%s run=%d rows=%s", job, run.id, run.rows)

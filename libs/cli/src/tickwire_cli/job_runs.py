"""The log of batch jobs: every run of a batch command (backfill, lake export, quality, migrate,
topic checks) is one job_runs row; `job_run()` opens it, and closes it with how the run ended."""

from __future__ import annotations

import json
import logging
import signal
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import Any

import psycopg

from tickwire_cli.errors import CliError
from tickwire_core.dsn import database_display

logger = logging.getLogger("tickwire.cli.jobs")

RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
INTERRUPTED = "interrupted"

# Exit codes that mean a signal stopped the run: 128 + SIGINT, 128 + SIGTERM.
_SIGNAL_EXITS = {128 + signal.SIGINT, 128 + signal.SIGTERM}
_CONNECT_TIMEOUT_S = 10


@dataclass
class JobRun:
    """The run being logged. `rows` is what the job reports as its output size when it ends;
    `error` says why a run that ends with a non-zero exit code failed. `id` is None when the run
    is not logged (a job whose log is optional, on a database without it)."""

    id: int | None
    job: str
    rows: int | None = None
    error: str | None = None


def _arguments_json(arguments: Mapping[str, object]) -> str:
    # Dates, paths and the like are logged as their text: the log is for people and dashboards.
    return json.dumps(dict(arguments), default=str, sort_keys=True)


def _connect(database_url: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(database_url, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S)
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CliError(
            f"cannot reach the database at {database_display(database_url)}: {first}",
            hint="the job's run is logged there; is it running (`tickwire status`)? "
            "set DATABASE_URL or --database-url",
        ) from None


def has_job_log(conn: psycopg.Connection[Any]) -> bool:
    """Whether the database has the job_runs table (migration 0014)."""
    return conn.execute("SELECT to_regclass('job_runs') IS NOT NULL").fetchone() == (True,)


def _open(database_url: str, job: str, arguments: Mapping[str, object]) -> int:
    with _connect(database_url) as conn:
        if not has_job_log(conn):
            raise CliError(
                f"the database at {database_display(database_url)} has no job_runs table",
                hint="run `tickwire migrate` first",
            )
        row = conn.execute(
            "INSERT INTO job_runs (job, arguments, host) VALUES (%s, %s::jsonb, %s) RETURNING id",
            (job, _arguments_json(arguments), socket.gethostname()),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _close(database_url: str, run: JobRun, status: str, error: str | None) -> None:
    # A connection of its own, opened now: a run can last hours, and a connection held idle that
    # long may be gone (a database restart, an idle timeout), which must not lose how it ended.
    # Failing to log never hides how the job itself ended: it is logged, and the run stays
    # 'running' in the table, as after a kill.
    if run.id is None:
        return
    try:
        with psycopg.connect(
            database_url, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S
        ) as conn:
            conn.execute(
                "UPDATE job_runs SET status = %s, rows = %s, error = %s, finished_at = now()"
                " WHERE id = %s",
                (status, run.rows, error, run.id),
            )
    except psycopg.Error as exc:
        logger.error("job run not closed job=%s run=%d status=%s: %s", run.job, run.id, status, exc)


def record_run(
    database_url: str,
    job: str,
    arguments: Mapping[str, object],
    *,
    started_at: datetime,
    rows: int | None,
) -> None:
    """Log a run that has already succeeded: for `tickwire migrate`, whose run creates job_runs."""
    with _connect(database_url) as conn:
        conn.execute(
            "INSERT INTO job_runs (job, arguments, host, started_at, finished_at, status, rows)"
            " VALUES (%s, %s::jsonb, %s, %s, now(), %s, %s)",
            (job, _arguments_json(arguments), socket.gethostname(), started_at, SUCCEEDED, rows),
        )


def _stop_on_sigterm() -> Any:
    """Turn SIGTERM into SystemExit(143) while the run is open, so that a stopped pod's run ends
    'interrupted' instead of staying 'running'. A command with its own SIGTERM handler (backfill
    stops after the page in hand) keeps it. Returns what to restore, or None."""
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None

    def stop(signum: int, _frame: FrameType | None) -> None:
        logger.warning("stopping: %s", signal.Signals(signum).name)
        raise SystemExit(128 + signum)

    return signal.signal(signal.SIGTERM, stop)


def ending(exc: BaseException, reason: str | None = None) -> tuple[str, str | None]:
    """How a run that raised `exc` ended, and the error to log: `reason` is what the command
    said of a non-zero exit code it chose itself (typer.Exit, SystemExit)."""
    if isinstance(exc, KeyboardInterrupt):
        return INTERRUPTED, "stopped by SIGINT"
    code = exc.code if isinstance(exc, SystemExit) else getattr(exc, "exit_code", None)
    if isinstance(exc, SystemExit) and code is None:
        code = 0
    if code == 0:  # an early, clean end
        return SUCCEEDED, None
    if code in _SIGNAL_EXITS:
        return INTERRUPTED, reason or _stopped_by(code)
    if code is not None:
        said = exc.format_message() if hasattr(exc, "format_message") else None  # click's errors
        return FAILED, reason or said or f"exit code {code}"
    return FAILED, exc.message if isinstance(exc, CliError) else str(exc) or type(exc).__name__


def _stopped_by(code: object) -> str:
    if isinstance(code, int) and code - 128 in (signal.SIGINT, signal.SIGTERM):
        return f"stopped by {signal.Signals(code - 128).name}"
    return f"exit code {code}"


@contextmanager
def job_run(
    database_url: str,
    job: str,
    arguments: Mapping[str, object],
    *,
    required: bool = True,
    warn: bool = True,
) -> Iterator[JobRun]:
    """Log one run of `job`: `succeeded` when the block returns (or exits 0), `interrupted` on
    Ctrl-C, SIGTERM or an exit code of 130/143, `failed` with the error's text otherwise. The
    exception, if any, goes on to the caller unchanged. A job whose log is optional
    (`required=False`: `tickwire topics`, which needs no database otherwise) runs unlogged where
    the database cannot be reached or has no job_runs table, with a warning unless `warn` is
    False (the command's error must stay its only line on stderr)."""
    try:
        run = JobRun(id=_open(database_url, job, arguments), job=job)
    except CliError as exc:
        if required:
            raise
        logger.log(logging.WARNING if warn else logging.DEBUG, "job not logged: %s", exc.message)
        run = JobRun(id=None, job=job)
    logger.debug("job started job=%s run=%s", job, run.id)
    restore = _stop_on_sigterm()
    try:
        yield run
    except BaseException as exc:
        _close(database_url, run, *ending(exc, run.error))
        raise
    else:
        _close(database_url, run, SUCCEEDED, None)
        logger.debug("job finished job=%s run=%s rows=%s", job, run.id, run.rows)
    finally:
        if restore is not None:
            signal.signal(signal.SIGTERM, restore)

"""`tickwire status`: one table of the local run's processes, each service instance's last
heartbeat, each feed's freshness and each batch job's last run, as the database keeps them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any

import psycopg
import typer
from psycopg.rows import dict_row

from tickwire_cli.context import Env
from tickwire_cli.output import help_from, print_json_line, print_table, stdout_is_terminal
from tickwire_cli.unmapped import UnmappedFields, unmapped_fields
from tickwire_core.localstack import runner

EXIT_NOTHING_RUNS = 3
# Something runs, but a service of the local run kept exiting and is left stopped.
EXIT_CRASH_LOOPING = 4

# Ages from the database's clock, the one that stamped heartbeat_at and the ticks.
_SERVICES = """
SELECT service, instance, extract(epoch FROM now() - heartbeat_at)::float8 AS age_s,
       rows_in, rows_out, rows_refused, lag, circuit, last_error
FROM service_status ORDER BY service, instance
"""
_FEEDS = """
SELECT provider, instrument, extract(epoch FROM now() - last_exchange_ts)::float8 AS age_s,
       ticks, gaps, last_gap_reason
FROM feed_status ORDER BY provider, instrument
"""
# A job's age is since its run ended, or since it started while it runs.
_JOBS = """
SELECT DISTINCT ON (job) job, status,
       extract(epoch FROM now() - coalesce(finished_at, started_at))::float8 AS age_s, rows, error
FROM job_runs ORDER BY job, started_at DESC, id DESC
"""


@dataclass
class Row:
    """One line of the table (and one JSON object when piped); what does not apply is None."""

    kind: str  # process | service | feed | unmapped | job | database
    name: str
    state: str
    age_s: float | None = None
    pid: int | None = None
    rows_in: int | None = None
    rows_out: int | None = None
    rows_refused: int | None = None
    lag: int | None = None
    circuit: str | None = None
    detail: str | None = None
    restarts: int | None = None  # of a local run's service, by the run
    exit_code: int | None = None  # of its last exit (negative: the signal that ended it)


def process_rows(env: Env) -> list[Row]:
    """Each process of the local run; a service also with its restarts and last exit, and as
    `restarting` or `crash-looping` while the run does not have it running."""
    reports = runner.supervision(env.local.state_dir)
    rows = []
    for name, pid in runner.processes(env.local.state_dir).items():
        row = Row("process", name, "running" if pid else "stopped", pid=pid)
        report = reports.get(name)
        if report is not None:
            if not pid and report.state != "running":
                row.state = report.state
            row.restarts = report.restarts
            row.exit_code = report.exit_code
            row.detail = report.detail
        rows.append(row)
    return rows


def database_rows(env: Env, heartbeat_timeout_s: float, stale_after_s: float) -> list[Row]:
    """Service instances and feeds, or one row saying why the database could not tell."""
    where = env.database_display()
    try:
        conn = psycopg.connect(env.database_url, connect_timeout=3)
    except psycopg.Error as exc:
        return [Row("database", where, "unreachable", detail=_first_line(exc))]
    try:
        with conn, conn.cursor(row_factory=dict_row) as cur:
            services = cur.execute(_SERVICES).fetchall()
            feeds = cur.execute(_FEEDS).fetchall()
            jobs = cur.execute(_JOBS).fetchall()
            unread = unmapped_fields(conn)
    except psycopg.errors.UndefinedTable:
        detail = "no status tables: run `tickwire migrate`"
        return [Row("database", where, "not migrated", detail=detail)]
    except psycopg.Error as exc:
        return [Row("database", where, "error", detail=_first_line(exc))]
    return (
        [_service_row(r, heartbeat_timeout_s) for r in services]
        + [_feed_row(r, stale_after_s) for r in feeds]
        + [_unmapped_row(u) for u in unread]
        + [_job_row(r) for r in jobs]
    )


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _service_row(r: dict[str, Any], timeout_s: float) -> Row:
    return Row(
        "service",
        f"{r['service']}/{r['instance']}",
        "alive" if r["age_s"] <= timeout_s else "silent",
        age_s=round(r["age_s"], 1),
        rows_in=r["rows_in"],
        rows_out=r["rows_out"],
        rows_refused=r["rows_refused"],
        lag=r["lag"],
        circuit=r["circuit"],
        detail=r["last_error"],
    )


def _feed_row(r: dict[str, Any], stale_after_s: float) -> Row:
    age = r["age_s"]
    gaps = f"gaps {r['gaps']}" + (f" (last: {r['last_gap_reason']})" if r["gaps"] else "")
    return Row(
        "feed",
        f"{r['provider']}/{r['instrument']}",
        "stale" if age is None or age > stale_after_s else "fresh",
        age_s=None if age is None else round(age, 1),
        detail=f"ticks {r['ticks']}, {gaps}",
    )


def _unmapped_row(unread: UnmappedFields) -> Row:
    """A provider sent fields its mapping does not read: a new venue field is noticed, not lost."""
    return Row("unmapped", unread.provider, "unread fields", detail=unread.counts)


def _job_row(r: dict[str, Any]) -> Row:
    """A batch job's last run: its status, how long ago, its rows (in `out`) and its error."""
    return Row(
        "job", r["job"], r["status"], age_s=round(r["age_s"], 1), rows_out=r["rows"],
        detail=r["error"],
    )  # fmt: skip


def _age(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 120:
        return f"{seconds:.1f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.0f}h"


def _cell(value: object, width: int = 120) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def status(
    ctx: typer.Context,
    heartbeat_timeout_s: Annotated[
        float,
        typer.Option(
            "--heartbeat-timeout",
            envvar="TICKWIRE_HEARTBEAT_TIMEOUT_S",
            min=0.1,
            help="Seconds since its last heartbeat after which an instance is not alive.",
        ),
    ] = 30.0,
    stale_after_s: Annotated[
        float,
        typer.Option(
            "--stale-after",
            envvar="TICKWIRE_STALE_AFTER_S",
            min=0.1,
            help="Age in seconds of a feed's newest tick beyond which the feed is stale.",
        ),
    ] = 60.0,
) -> None:
    """Show what runs: processes, service heartbeats, feed freshness.

    The local run's processes (pid files in the state dir), each service instance's last
    heartbeat (alive, rows in/out/refused, lag, circuit, last error), each feed's freshness
    (last tick age, gaps), per provider the venue fields no mapping reads (so a new field is
    noticed), from the database's service_status and feed_status, and each batch job's last run
    (backfill, lake-export, quality, migrate, topics-check: status, age, rows, error) from
    job_runs. Each service of the local run shows how often the run restarted it and its last
    exit; one that exits is restarted after a backoff (state `restarting`), one that kept exiting
    is left stopped (state `crash-looping`). When the database cannot be reached the processes
    are still shown, with a row saying so. A table on a terminal, one JSON object per row when
    piped. Exit code: 0 when something runs (a local process, or an instance whose heartbeat is
    alive), 3 when nothing does, 4 when something runs but a service is crash-looping.

    Example: tickwire status | jq 'select(.kind == "feed")'
    """
    env: Env = ctx.obj
    rows = process_rows(env) + database_rows(env, heartbeat_timeout_s, stale_after_s)
    if stdout_is_terminal():
        print_table(
            f"tickwire status ({env.local.state_dir}, database {env.database_display()})",
            ["kind", "name", "state", "age", "pid", "restarts", "in", "out", "refused", "lag",
             "circuit", "detail"],
            [
                [r.kind, r.name, r.state, _age(r.age_s), r.pid, r.restarts, r.rows_in,
                 r.rows_out, r.rows_refused, r.lag, r.circuit, _cell(r.detail)]
                for r in rows
            ],
        )  # fmt: skip
    else:
        for row in rows:
            print_json_line(asdict(row))
    # A job's run is not the pipeline running (and a killed run stays 'running' for ever).
    if not any(r.state in ("running", "alive") for r in rows if r.kind != "job"):
        raise typer.Exit(EXIT_NOTHING_RUNS)
    if any(r.state == "crash-looping" for r in rows if r.kind == "process"):
        raise typer.Exit(EXIT_CRASH_LOOPING)


def register(app: typer.Typer) -> None:
    app.command("status", help=help_from(status.__doc__))(status)

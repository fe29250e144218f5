"""`tickwire backfill`: a vendor's history into the pipeline (docs/history.md): one source and
its instruments, every job of a nightly config file, or the run log (`tickwire backfill runs`)."""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import nullcontext
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from tickwire_cli.context import Env
from tickwire_cli.errors import CliError, UsageError
from tickwire_cli.job_runs import JobRun, job_run
from tickwire_cli.output import help_from, print_json_line, print_table, stdout_is_terminal
from tickwire_core.errors import ConfigError
from tickwire_core.topics import RAW_TICKS

logger = logging.getLogger("tickwire.cli.backfill")

RUNS = "runs"
JOB = "backfill"


def _require_ingest() -> None:
    try:
        import tickwire_ingest  # noqa: F401
    except ImportError:
        raise CliError(
            "backfill needs tickwire_ingest, which is not installed here",
            hint="run it where ingest is installed: the workspace, or the ingest image",
        ) from None


def backfill(
    ctx: typer.Context,
    source: Annotated[
        str | None,
        typer.Argument(
            help="yahoo, coingecko, binance, coinbase, kraken, deribit, "
            "finra-short-volume, finra-short-interest; or `runs` for the run log."
        ),
    ] = None,
    instruments: Annotated[
        str | None, typer.Option("--instruments", help="Comma-separated vendor names.")
    ] = None,
    instruments_file: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Names, one a line or comma-separated."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Start (date or date-time, UTC); default the vendor's first.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="End, exclusive; default now.")] = None,
    interval: Annotated[
        str | None, typer.Option(help="Bar interval: 1d, 1h, 5m or 1m (default 1d).")
    ] = None,
    trades: Annotated[bool, typer.Option("--trades", help="Public trades, not bars.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; fetch and publish nothing.")
    ] = False,
    restart: Annotated[
        bool, typer.Option("--restart", help="Start from --since, not the stored watermark.")
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Run every [[job]] of this TOML file."),
    ] = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Do not wait for the pipeline to store the rows.")
    ] = False,
    wait_timeout: Annotated[
        float, typer.Option(min=0, help="Seconds to wait for the pipeline at most.")
    ] = 120.0,
    limit: Annotated[int, typer.Option(min=1, help="With `runs`: how many runs.")] = 20,
) -> None:
    """Fetch a vendor's history and publish it to the raw topic, where normalize validates it
    like live data and the sink stores it; resumes from the stored watermark.

    A progress bar per instrument on a terminal, then a table per instrument: rows fetched,
    published, stored, rejected by reason, already present (JSON lines when piped). A failed
    instrument does not stop the others. Exit code: 0 all done, 1 one or more failed, 130 stopped
    by Ctrl-C or SIGTERM (after the page in hand). `tickwire backfill runs` lists recent runs per
    instrument; each invocation but --dry-run is also one run of job `backfill` in job_runs
    (rows: records published), which `tickwire status` shows.

    Example: tickwire backfill yahoo --instruments AAPL,MSFT --since 2020-01-01 --interval 1d
    """
    env: Env = ctx.obj
    _require_ingest()
    from tickwire_cli.backfill_run import Options
    from tickwire_ingest.domain.history.config import Job, parse_jobs
    from tickwire_ingest.domain.history.plan import (
        INTERVALS,
        PlanError,
        parse_time,
        read_instruments,
    )

    if source == RUNS:
        _show_runs(env, limit)
        return
    if (source is None) == (config is None):
        raise UsageError("name a SOURCE or a --config file (not both)")
    if interval is not None and interval not in INTERVALS:
        raise UsageError(f"--interval {interval!r}: choose one of {', '.join(INTERVALS)}")
    try:
        if config is not None:
            jobs = parse_jobs(config.read_text(), str(config))
        else:
            assert source is not None
            names = read_instruments(instruments or "")
            if instruments_file is not None:
                names += read_instruments(instruments_file.read_text())
            jobs = [
                Job(
                    source=source,
                    instruments=tuple(names),
                    interval=interval,
                    trades=trades,
                    since=None if since is None else parse_time(since, "--since"),
                    until=None if until is None else parse_time(until, "--until"),
                    restart=restart,
                )
            ]
    except PlanError as exc:
        raise UsageError(str(exc)) from None
    from tickwire_core.settings import load_settings
    from tickwire_ingest.history_settings import HistorySettings

    try:
        settings = load_settings(HistorySettings)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    options = Options(
        dry_run=dry_run, wait=not no_wait, wait_timeout_s=wait_timeout, topic=env.topic(RAW_TICKS)
    )
    # A dry run is a plan, not a run: only real runs go to the job log.
    arguments = {
        "source": source,
        "instruments": instruments,
        "instruments_file": instruments_file,
        "since": since,
        "until": until,
        "interval": interval,
        "trades": trades or None,
        "restart": restart or None,
        "config": config,
    }
    logged = (
        nullcontext(JobRun(id=None, job=JOB))
        if dry_run
        else job_run(env.database_url, JOB, {k: v for k, v in arguments.items() if v is not None})
    )
    with logged as run:
        code = _run(env, settings, jobs, options, run)
        if code:  # inside the log: 1 is a failed run, 130 an interrupted one
            raise typer.Exit(code)


def _run(env: Env, settings: Any, jobs: Any, options: Any, run: JobRun) -> int:
    """The jobs run with Ctrl-C and SIGTERM stopping them after the page in hand."""
    from tickwire_cli.backfill_run import run_jobs

    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():  # a second Ctrl-C: stop now, the page in hand is published again later
            raise KeyboardInterrupt
        logger.warning("stopping after the current page (%s)", signal.Signals(signum).name)
        run.error = f"stopped by {signal.Signals(signum).name}"
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return run_jobs(env, settings, jobs, options, stop, run)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _show_runs(env: Env, limit: int) -> None:
    from tickwire_cli.backfill_run import opened_store

    with opened_store(env) as store:
        runs = store.recent(limit)
    if not stdout_is_terminal():
        for run in runs:
            print_json_line(run)
        return
    columns = ["id", "source", "dataset", "instrument", "status", "started_at", "finished_at"]
    columns += ["pages", "fetched", "published", "stored", "already_present", "rejected", "error"]
    rows: list[list[Any]] = [[run[c] for c in columns] for run in runs]
    print_table("backfill runs (newest first)", columns, rows)


def register(app: typer.Typer) -> None:
    app.command("backfill", help=help_from(backfill.__doc__))(backfill)

"""`tickwire quality`: the daily quality report (docs/quality.md) of one UTC day or a range of
days, computed from the stored rows into quality_daily; each day's rows replace its earlier ones."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import psycopg
import typer

from tickwire_cli import __version__
from tickwire_cli.context import Env
from tickwire_cli.errors import CliError, UsageError
from tickwire_cli.job_runs import job_run
from tickwire_cli.output import help_from, print_json_line, print_table, stdout_is_terminal

# What the table shows of each row; piped, every column is printed.
_SHOWN = [
    "day",
    "provider",
    "instrument",
    "calendar",
    "coverage",
    "ticks",
    "gaps",
    "gap_seconds",
    "duplicates",
    "rejects",
    "late_ticks",
    "anomalies",
    "close_rel_diff",
]


def _require_jobs() -> None:
    try:
        import tickwire_jobs  # noqa: F401
    except ImportError:
        raise CliError(
            "quality needs tickwire_jobs, which is not installed here",
            hint="run it where the jobs are installed: the workspace, or the jobs image",
        ) from None


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a day (YYYY-MM-DD)") from None


def _cell(name: str, value: Any) -> Any:
    if value is None:
        return "-"
    if name in ("coverage",):
        return f"{value:.1%}"
    if name == "close_rel_diff":
        return f"{value:+.4%}"
    return value


def quality(
    ctx: typer.Context,
    day: Annotated[str, typer.Option("--day", help="The UTC day, YYYY-MM-DD.")],
    through: Annotated[
        str | None, typer.Option("--through", help="Last day of a range, included.")
    ] = None,
    provider: Annotated[str | None, typer.Option(help="Only this provider's rows.")] = None,
    instrument: Annotated[str | None, typer.Option(help="Only this instrument's rows.")] = None,
    calendar: Annotated[
        list[str] | None,
        typer.Option(
            "--calendar",
            help="PROVIDER=CAL or PROVIDER/INSTRUMENT=CAL: measure coverage against CAL "
            "(24/7, or an exchange code such as XNYS); repeatable.",
        ),
    ] = None,
) -> None:
    """Compute the daily quality report of a UTC day (or of each day to --through) from the
    stored ticks, gap events, dedup tallies, rejects, anomalies and bars: per provider and
    instrument, coverage of its session, gaps, duplicates, rejects, late ticks, anomalies and
    vendor/computed bar agreement. Each day's rows replace the ones computed before, so a rerun
    gives the same table.

    A table per day on a terminal, one JSON line per row when piped. The run is logged in
    job_runs (job `quality`). Exit code: 0 done, 1 the database failed, 2 wrong arguments.

    Example: tickwire quality --day 2026-12-05 --through 2026-12-06 --provider binance
    """
    env: Env = ctx.obj
    _require_jobs()
    from tickwire_jobs.adapters.exchange_sessions import UnknownCalendar, check_calendars
    from tickwire_jobs.adapters.quality_store import Scope
    from tickwire_jobs.domain.sessions import CalendarChoiceError, calendar_map
    from tickwire_jobs.quality_report import days, report_day

    first = _day(day, "--day")
    last = first if through is None else _day(through, "--through")
    if last < first:
        raise UsageError(f"--through {last} is before --day {first}")
    try:
        calendars = calendar_map(calendar or ())
        check_calendars(calendars.names())
    except (CalendarChoiceError, UnknownCalendar) as exc:
        raise UsageError(f"--calendar: {exc}") from None
    arguments = {
        "day": first,
        "through": last,
        "provider": provider,
        "instrument": instrument,
        "calendar": calendar or [],
    }
    terminal = stdout_is_terminal()
    # Connected first: an unreachable database is one line naming it, before a run is logged.
    with (
        env.connect_db(autocommit=True) as conn,
        job_run(env.database_url, "quality", arguments) as run,
    ):
        run.rows = 0
        for each in days(first, last):
            scope = Scope(each, provider, instrument)
            try:
                rows = report_day(conn, scope, calendars, __version__, (first, last))
            except psycopg.Error as exc:
                text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise CliError(
                    f"the quality report of {each} failed on {env.database_display()}: {text}"
                ) from None
            run.rows += len(rows)
            if terminal:
                shown = [[_cell(n, getattr(r, n)) for n in _SHOWN] for r in rows]
                print_table(f"quality {each}: {len(rows)} rows", _SHOWN, shown)
            else:
                for row in rows:
                    print_json_line(row.__dict__)


def register(app: typer.Typer) -> None:
    app.command("quality", help=help_from(quality.__doc__))(quality)

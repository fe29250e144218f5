"""`tickwire lake export`: the stored history of whole UTC days as Parquet files in a hive-style
lake (docs/lake.md), in a local folder or an S3-compatible bucket."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

import psycopg
import typer

from tickwire_cli import __version__
from tickwire_cli.context import Env
from tickwire_cli.errors import CliError, UsageError
from tickwire_cli.job_runs import job_run
from tickwire_cli.output import help_from, print_json_line, print_table, stdout_is_terminal

logger = logging.getLogger("tickwire.cli.lake")

lake_app = typer.Typer(
    help="The lake: every stored kind of a UTC day as Parquet, partitioned "
    "provider=/type=/instrument=/year=/month=/day=.\n\n"
    "Example: tickwire lake export --day 2026-03-05 --to s3://research/tickwire",
    no_args_is_help=True,
)


def _require_jobs() -> None:
    try:
        import tickwire_jobs  # noqa: F401
    except ImportError:
        raise CliError(
            "lake export needs tickwire_jobs, which is not installed here",
            hint="run it where the jobs package is installed: the workspace, or the service image",
        ) from None


def _date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


def export(
    ctx: typer.Context,
    day: Annotated[str, typer.Option("--day", help="The UTC day (YYYY-MM-DD), or the first.")],
    to: Annotated[
        str, typer.Option("--to", help="A local folder or s3://bucket/prefix (AWS_* variables).")
    ],
    through: Annotated[
        str | None, typer.Option("--through", help="The last day, inclusive (default: --day).")
    ] = None,
    kinds: Annotated[
        str | None,
        typer.Option(
            "--kinds",
            help="Comma-separated: ticks, gaps, bars, anomalies, signals, short_volume, "
            "short_interest, quality_daily (default: all).",
        ),
    ] = None,
) -> None:
    """Export every stored kind of each UTC day to the lake: one Parquet file per provider, kind,
    instrument and day, committed with the day's _manifest.json so readers see whole days.

    A day whose rows have not changed since its last export is left untouched; a day that changed
    is rewritten. One line per day: rows and files written, files kept and removed (JSON lines
    when piped). Each run is logged in job_runs as lake-export.

    Example: tickwire lake export --day 2026-03-01 --through 2026-03-31 --to ./lake
    """
    env: Env = ctx.obj
    _require_jobs()
    from tickwire_jobs.adapters.lake_store import LakeStore
    from tickwire_jobs.domain.lake_kinds import kinds_named
    from tickwire_jobs.domain.lake_layout import days_between
    from tickwire_jobs.domain.lake_manifest import ManifestError
    from tickwire_jobs.lake_export import export_day

    first = _date(day, "--day")
    last = first if through is None else _date(through, "--through")
    days = days_between(first, last)
    if not days:
        raise UsageError(f"--through {last} is before --day {first}")
    names = [name.strip() for name in (kinds or "").split(",") if name.strip()]
    try:
        chosen = kinds_named(names or None)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        store = LakeStore.from_url(to)
    except OSError as exc:
        raise CliError(f"cannot open the lake at {to}: {exc}") from None
    arguments = {"day": first, "through": last, "kinds": names or "all", "to": to}
    results: list[dict[str, Any]] = []
    with job_run(env.database_url, "lake-export", arguments) as run, env.connect_db() as conn:
        run.rows = 0
        for each in days:
            try:
                result = export_day(conn, store, each, chosen, version=__version__)
            except (OSError, psycopg.Error, ManifestError) as exc:
                line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                raise CliError(f"lake export of {each} to {to} failed: {line}") from exc
            run.rows += result.rows_written
            record = {
                "day": each,
                "rows_written": result.rows_written,
                "files_written": result.files_written,
                "files_kept": result.files_kept,
                "files_removed": result.files_removed,
                "skipped_kinds": ",".join(result.skipped_kinds),
            }
            results.append(record)
            if not stdout_is_terminal():
                print_json_line(record)
    if stdout_is_terminal():
        columns = list(results[0])
        print_table(f"lake export to {to}", columns, [[r[c] for c in columns] for r in results])


def register(app: typer.Typer) -> None:
    lake_app.command("export", help=help_from(export.__doc__))(export)
    app.add_typer(lake_app, name="lake")

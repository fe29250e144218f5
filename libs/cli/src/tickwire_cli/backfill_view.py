"""What `tickwire backfill` shows: a progress bar per instrument and tables on a terminal; JSON
log lines (progress) and JSON lines (plan, counts) when piped."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from tickwire_cli.output import print_json_line, print_table, stderr_is_terminal, stdout_is_terminal
from tickwire_ingest.adapters.history.store import to_time
from tickwire_ingest.backfill import Outcome
from tickwire_ingest.domain.history.pages import Page
from tickwire_ingest.domain.history.plan import Step
from tickwire_ingest.domain.history.tally import Tally

logger = logging.getLogger("tickwire.cli.backfill")

_LOG_EVERY_S = 5.0


def _when(us: int | None) -> str | None:
    return None if us is None else to_time(us).isoformat()


class Bars:
    """One bar per step; `page` after each page, `done` at the end of a step."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._tasks: dict[Step, TaskID] = {}
        self._started: dict[Step, float] = {}
        self._logged: dict[Step, float] = {}

    def start(self, step: Step) -> None:
        self._started[step] = self._logged[step] = time.monotonic()
        if self._progress is not None:
            total = max(step.until - step.since, 1) / 1e6  # seconds of history
            self._tasks[step] = self._progress.add_task(
                f"{step.source} {step.dataset} {step.instrument}", total=total, info=""
            )

    def page(self, outcome: Outcome, page: Page) -> None:
        step = outcome.step
        elapsed = max(time.monotonic() - self._started[step], 1e-3)
        info = (
            f"{outcome.pages} pages, {outcome.published} rows, {outcome.published / elapsed:,.0f}/s"
        )
        covered = (min(page.covered_until, step.until) - step.since) / 1e6
        if self._progress is not None:
            self._progress.update(self._tasks[step], completed=covered, info=info)
        elif time.monotonic() - self._logged[step] >= _LOG_EVERY_S:
            self._logged[step] = time.monotonic()
            self._log(outcome, page.covered_until)

    def done(self, outcome: Outcome) -> None:
        if self._progress is not None and outcome.step in self._tasks:
            task = self._tasks[outcome.step]
            self._progress.update(task, info=f"{outcome.status}, {outcome.published} rows")
        elif self._progress is None:
            self._log(outcome, outcome.watermark)

    def _log(self, outcome: Outcome, covered: int | None) -> None:
        step = outcome.step
        elapsed = max(time.monotonic() - self._started[step], 1e-3)
        logger.info(
            "backfill %s %s: %d pages, %d rows",
            step.source,
            step.instrument,
            outcome.pages,
            outcome.published,
            extra={
                "source": step.source,
                "dataset": step.dataset,
                "instrument": step.instrument,
                "pages": outcome.pages,
                "rows": outcome.published,
                "rows_per_s": round(outcome.published / elapsed, 1),
                "status": outcome.status,
                "covered_until": _when(covered),
            },
        )


@contextmanager
def bars() -> Iterator[Bars]:
    if not stderr_is_terminal():
        yield Bars(None)
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[info]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        yield Bars(progress)


def _short(us: int | None) -> str:
    """A time for a table: the date alone at midnight UTC, else date and time to the second."""
    if us is None:
        return ""
    moment = to_time(us)
    if moment.hour == moment.minute == moment.second == moment.microsecond == 0:
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _title(what: str, steps: Sequence[Step]) -> str:
    jobs = dict.fromkeys(f"{s.source} {s.dataset}" for s in steps)
    return f"{what}: {', '.join(jobs)}"


def show_plan(steps: Sequence[Step]) -> None:
    if not stdout_is_terminal():
        for s in steps:
            print_json_line(
                {
                    "source": s.source,
                    "dataset": s.dataset,
                    "instrument": s.instrument,
                    "from": _when(s.since),
                    "to": _when(s.until),
                    "watermark": _when(s.watermark),
                    "action": "up to date" if s.up_to_date else "fetch",
                }
            )
        return
    columns = ["source", "dataset", "instrument", "from", "to", "watermark", "action"]
    rows = [
        [s.source, s.dataset, s.instrument, _short(s.since), _short(s.until),
         _short(s.watermark), "up to date" if s.up_to_date else "fetch"]
        for s in steps
    ]  # fmt: skip
    print_table("backfill plan (dry run: nothing fetched)", columns, rows)


def _result(outcome: Outcome, tally: Tally | None) -> dict[str, Any]:
    step = outcome.step
    row: dict[str, Any] = {
        "source": step.source,
        "dataset": step.dataset,
        "instrument": step.instrument,
        "status": "up to date" if step.up_to_date else outcome.status,
        "pages": outcome.pages,
        "fetched": outcome.fetched,
        "published": outcome.published,
        "watermark": _when(outcome.watermark),
    }
    if tally is not None:
        row.update(tally.as_dict())
        row["fetched"] = outcome.fetched
    if outcome.empty and not step.up_to_date:
        row["note"] = "the vendor has no rows in this range"
    if outcome.error:
        row["error"] = outcome.error
    return row


def show_results(outcomes: Sequence[Outcome], tallies: dict[Step, Tally] | None) -> None:
    """One line per instrument; on a terminal a table of the counts, then its notes and errors."""
    results = [_result(o, (tallies or {}).get(o.step)) for o in outcomes]
    if not stdout_is_terminal():
        for row in results:
            print_json_line(row)
        return
    columns = ["instrument", "status", "pages", "fetched", "published"]
    if tallies is not None:
        columns += ["stored", "present", "rejected", "pending"]
    columns.append("watermark")
    rows = []
    for outcome, row in zip(outcomes, results, strict=True):
        line = [row["instrument"], row["status"], row["pages"], row["fetched"], row["published"]]
        if tallies is not None:
            rejected = sum(row["rejected"].values()) if "rejected" in row else None
            line += [row.get("stored"), row.get("already_present"), rejected, row.get("pending")]
        line.append(_short(outcome.watermark))
        rows.append(line)
    print_table(_title("backfill", [o.step for o in outcomes]), columns, rows)
    # Below the table, what does not fit in a cell: reasons, notes, errors.
    for row in results:
        if row.get("rejected"):
            reasons = ", ".join(f"{k} {v}" for k, v in row["rejected"].items())
            print(f"{row['instrument']}: rejected: {reasons}")
        for key in ("note", "error"):
            if key in row:
                print(f"{row['instrument']}: {row[key]}")
    if tallies is not None:
        print("present: rows that existed before the run; rejected: dead letters, by reason above")

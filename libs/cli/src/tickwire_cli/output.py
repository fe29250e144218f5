"""What a command prints: tables and progress bars on a terminal, JSON lines when piped, so that
`tickwire tail ... | jq` and a cron job's log both get something they can read."""

from __future__ import annotations

import inspect
import io
import json
import logging
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TextIO, cast

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from tickwire_core.logs import configure_logging

logger = logging.getLogger("tickwire.cli")


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


class _CurrentStderr(io.TextIOBase):
    """sys.stderr as it is at each write: while a progress bar is shown rich replaces it, and log
    lines written through the replacement go above the bar instead of through it."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def setup_logging(level: str = "INFO") -> None:
    """JSON log lines on stderr: stdout carries the command's own output (records, tables)."""
    configure_logging("cli", level, stream=cast(TextIO, _CurrentStderr()))


def _default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def json_line(record: Mapping[str, Any]) -> str:
    return json.dumps(record, default=_default, separators=(",", ":"), ensure_ascii=False)


def print_json_line(record: Mapping[str, Any]) -> None:
    sys.stdout.write(json_line(record) + "\n")
    sys.stdout.flush()


def print_table(
    title: str | None, columns: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console().print(table)


class Reporter:
    """Progress of a long command: a rich bar on a terminal, otherwise a JSON log line at most
    every `every_s` seconds and one at the end, with the same counts."""

    def __init__(self, progress: Progress | None, task: TaskID | None, what: str, every_s: float):
        self._progress = progress
        self._task = task
        self._what = what
        self._every_s = every_s
        self._last_log = time.monotonic()
        self.done = 0
        self.total: int | None = None
        self.fields: dict[str, Any] = {}

    def advance(self, n: int = 1, **fields: Any) -> None:
        self.done += n
        self.fields.update(fields)
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=n, **fields)
        elif time.monotonic() - self._last_log >= self._every_s:
            self._last_log = time.monotonic()
            self.log()

    def set_total(self, total: int | None) -> None:
        self.total = total
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=total)

    def log(self) -> None:
        extra = {"what": self._what, "done": self.done, "total": self.total, **self.fields}
        logger.info("%s: %d done", self._what, self.done, extra=extra)


@contextmanager
def progress(what: str, total: int | None = None, every_s: float = 5.0) -> Iterator[Reporter]:
    if not stderr_is_terminal():
        reporter = Reporter(None, None, what, every_s)
        reporter.total = total
        yield reporter
        reporter.log()
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(what, total=total, rate="")
        reporter = Reporter(bar, task, what, every_s)
        reporter.total = total
        yield reporter


def help_from(doc: str | None) -> str:
    """A command's --help from its docstring: typer keeps single line breaks, which would make a
    wrapped docstring's paragraphs wrap twice, so each paragraph becomes one line."""
    paragraphs = inspect.cleandoc(doc or "").split("\n\n")
    return "\n\n".join(" ".join(p.split("\n")) for p in paragraphs)

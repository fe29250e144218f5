"""How a batch job's run ends in the log, from what its command raised: interrupted by a signal
(raised, or the exit code a command chose for it), failed with the one line the command printed,
or succeeded when it ended early and well."""

from __future__ import annotations

import signal

import click
import pytest
import typer

from tickwire_cli.errors import CliError, UsageError
from tickwire_cli.job_runs import FAILED, INTERRUPTED, SUCCEEDED, ending

SIGTERM_EXIT = 128 + signal.SIGTERM


@pytest.mark.parametrize(
    ("raised", "reason", "expected"),
    [
        (KeyboardInterrupt(), None, (INTERRUPTED, "stopped by SIGINT")),
        (SystemExit(SIGTERM_EXIT), None, (INTERRUPTED, "stopped by SIGTERM")),
        (typer.Exit(130), "stopped by SIGTERM", (INTERRUPTED, "stopped by SIGTERM")),
        (typer.Exit(130), None, (INTERRUPTED, "stopped by SIGINT")),
        (typer.Exit(1), "1 of 2 failed: fake NOPE", (FAILED, "1 of 2 failed: fake NOPE")),
        (typer.Exit(3), None, (FAILED, "exit code 3")),
        (SystemExit(1), None, (FAILED, "exit code 1")),
        (CliError("migrations failed on db:5432/t: lock timeout"), None,
         (FAILED, "migrations failed on db:5432/t: lock timeout")),
        (UsageError("fake: name instruments"), None, (FAILED, "fake: name instruments")),
        (click.BadParameter("not a day", param_hint="'--day'"), None,
         (FAILED, "Invalid value for '--day': not a day")),
        (RuntimeError("boom"), None, (FAILED, "boom")),
        (ValueError(), None, (FAILED, "ValueError")),
        (typer.Exit(0), None, (SUCCEEDED, None)),
        (SystemExit(), None, (SUCCEEDED, None)),
    ],
)  # fmt: skip
def test_each_way_a_command_ends_is_logged_as_it_happened(
    raised: BaseException, reason: str | None, expected: tuple[str, str | None]
) -> None:
    assert ending(raised, reason) == expected

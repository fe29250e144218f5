"""How a command fails: `CliError` carries the one line a person reads and the exit code a script
trusts (2: the command was used wrongly, 1: it was used rightly but something it needs failed)."""

from __future__ import annotations

EXIT_RUNTIME = 1
EXIT_USAGE = 2


class CliError(Exception):
    def __init__(self, message: str, *, hint: str | None = None, code: int = EXIT_RUNTIME) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code


class UsageError(CliError):
    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint, code=EXIT_USAGE)

"""`tickwire` and `python -m tickwire_cli`: run the command tree and turn every failure into one
line on stderr and an exit code (0 done, 1 something it needs failed, 2 used wrongly)."""

from __future__ import annotations

import sys

import typer

from tickwire_cli.errors import EXIT_RUNTIME, EXIT_USAGE, CliError
from tickwire_core.errors import TickwireError


def _fail(message: str, hint: str | None, code: int) -> int:
    line = f"tickwire: error: {message}"
    if hint:
        line += f" (hint: {hint})"
    print(line.replace("\n", " "), file=sys.stderr, flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    from tickwire_cli.app import app

    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="tickwire", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        return _fail("interrupted", None, 130)
    except typer.TyperException as exc:  # click's errors, as typer vendors them
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError":  # a group alone: typer printed its help
            return EXIT_USAGE
        code = exc.exit_code or EXIT_RUNTIME
        hint = None
        if ctx is not None and code == EXIT_USAGE:
            hint = f"see `{ctx.command_path} --help`"
        return _fail(exc.format_message(), hint, code)
    except CliError as exc:
        return _fail(exc.message, exc.hint, exc.code)
    except TickwireError as exc:
        return _fail(str(exc), None, EXIT_RUNTIME)
    except BrokenPipeError:  # `tickwire tail ... | head`: the reader is gone, which is fine
        sys.stderr.close()
        return 0
    if isinstance(result, int):
        return result
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

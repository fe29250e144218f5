"""The command's contract with scripts: exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

from tickwire_cli import __version__


def test_version(tickwire) -> None:
    done = tickwire("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"tickwire {__version__}"


def test_an_unknown_command_is_a_usage_error_in_one_line(tickwire) -> None:
    assert tickwire.error_line("no-such-command", code=2) == (
        "tickwire: error: No such command 'no-such-command'. (hint: see `tickwire --help`)"
    )


def test_a_bad_option_value_is_a_usage_error_naming_the_option(tickwire) -> None:
    line = tickwire.error_line("topics", "create", "--replication-factor", "0", code=2)
    assert "'--replication-factor'" in line


def test_an_unreachable_broker_is_a_runtime_error_naming_its_address(tickwire, unreachable) -> None:
    line = tickwire.error_line("--bootstrap-servers", unreachable, "topics", "create", code=1)
    assert line.startswith(f"tickwire: error: cannot reach Kafka at {unreachable}: ")

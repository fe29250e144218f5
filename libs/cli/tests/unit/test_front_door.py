"""The command's contract with scripts: exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import socket
import subprocess
import sys

from tickwire_cli import __version__


def tickwire(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tickwire_cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_version() -> None:
    done = tickwire("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"tickwire {__version__}"


def test_an_unknown_command_is_a_usage_error_in_one_line() -> None:
    done = tickwire("no-such-command")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "tickwire: error: No such command 'no-such-command'. (hint: see `tickwire --help`)"
    ]


def test_a_bad_option_value_is_a_usage_error_naming_the_option() -> None:
    done = tickwire("topics", "create", "--replication-factor", "0")
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "'--replication-factor'" in line
    assert "Traceback" not in done.stderr


def test_an_unreachable_broker_is_a_runtime_error_naming_its_address() -> None:
    address = f"127.0.0.1:{closed_port()}"
    done = tickwire("--bootstrap-servers", address, "topics", "create")
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"tickwire: error: cannot reach Kafka at {address}: ")

"""The error paths of `tickwire tail`, as a script sees them: one line on stderr and exit code 2
(used wrongly) or 1 (the broker is not there), never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys


def tickwire(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tickwire_cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TICKWIRE_TOPIC_PREFIX": ""},
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    return line


def test_an_unknown_topic_is_a_usage_error_naming_the_valid_ones() -> None:
    done = tickwire("tail", "tickz")
    assert done.returncode == 2
    assert one_line(done) == (
        "tickwire: error: unknown topic 'tickz'; valid: raw, ticks, bars, anomalies, signals, "
        "deadletter, status (or their full names) (hint: topics are listed in "
        "schemas/topics.toml)"
    )


def test_a_bad_start_and_a_bad_output_are_usage_errors() -> None:
    done = tickwire("tail", "ticks", "--from", "yesterday")
    assert done.returncode == 2
    assert one_line(done).startswith(
        "tickwire: error: --from 'yesterday' is neither earliest, latest nor an ISO time"
    )
    done = tickwire("tail", "ticks", "--output", "xml")
    assert done.returncode == 2
    assert "'--output'" in one_line(done)
    done = tickwire("tail", "ticks", "--limit", "0")
    assert done.returncode == 2
    assert "'--limit'" in one_line(done)


def test_an_unreachable_broker_is_one_line_naming_it() -> None:
    address = f"127.0.0.1:{closed_port()}"
    done = tickwire("--bootstrap-servers", address, "tail", "ticks")
    assert done.returncode == 1
    assert one_line(done).startswith(f"tickwire: error: cannot reach Kafka at {address}: ")


def test_tail_help_has_an_example() -> None:
    done = tickwire("tail", "--help")
    assert done.returncode == 0
    assert "Example: tickwire tail " in done.stdout

"""The error paths of `tickwire deadletters`, as a script sees them: one line on stderr and exit
code 2 (used wrongly) or 1 (the broker is not there), never a traceback."""

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


def test_a_redrive_must_be_told_what_to_take() -> None:
    done = tickwire("deadletters", "redrive")
    assert done.returncode == 2
    assert one_line(done) == (
        "tickwire: error: choose what to redrive: --reason, --provider, --instrument, "
        "--source-topic, --service, --since/--until, or --all"
    )
    done = tickwire("deadletters", "redrive", "--since", "2026-03-02", "--until", "2026-03-01")
    assert done.returncode == 2
    assert one_line(done) == "tickwire: error: --until must be after --since"


def test_every_command_has_an_example_in_its_help() -> None:
    for args in (["deadletters"], ["deadletters", "summary"], ["deadletters", "redrive"]):
        done = tickwire(*args, "--help")
        assert done.returncode == 0, args
        assert "Example: tickwire " in done.stdout, args


def test_an_unreachable_broker_is_one_line_naming_it() -> None:
    address = f"127.0.0.1:{closed_port()}"
    done = tickwire("--bootstrap-servers", address, "deadletters", "summary")
    assert done.returncode == 1
    assert one_line(done).startswith(f"tickwire: error: cannot reach Kafka at {address}: ")

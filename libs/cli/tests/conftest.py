"""`tickwire` run as a user runs it, a process of its own with its output piped, in an environment
that names only what the test gives it: never a developer's local run or shell settings."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Tickwire:
    env: dict[str, str] = field(default_factory=dict)

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tickwire_cli", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env,
        )

    def with_env(self, **more: str) -> Tickwire:
        return Tickwire({**self.env, **more})

    def error_line(self, *args: str, code: int) -> str:
        """The one line a failing command prints on stderr, after checking its exit code and
        that no traceback came with it."""
        done = self(*args)
        assert done.returncode == code, (done.returncode, done.stderr)
        assert "Traceback" not in done.stderr
        [line] = done.stderr.strip().splitlines()
        return line

    def json_lines(self, *args: str, code: int = 0) -> list[dict[str, Any]]:
        done = self(*args)
        assert done.returncode == code, done.stderr
        return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.fixture
def unreachable() -> str:
    """A broker or database address where nothing listens."""
    return f"127.0.0.1:{closed_port()}"


@pytest.fixture
def tickwire(tmp_path: Path) -> Tickwire:
    """The command with a state dir of its own and the local run's ports closed."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TICKWIRE_", "KAFKA_")) and k != "DATABASE_URL"
    }
    env.update(
        TICKWIRE_STATE_DIR=str(tmp_path / "state"),
        TICKWIRE_KAFKA_PORT=str(closed_port()),
        TICKWIRE_PG_PORT=str(closed_port()),
    )
    return Tickwire(env)

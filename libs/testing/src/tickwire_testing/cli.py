"""`tickwire` run as a user runs it, for the CLI's tests: a process of its own with its output
piped, in the environment the test gives it, or left running (`tail --follow`) and read a line at
a time."""

from __future__ import annotations

import json
import queue
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import psycopg


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def as_url(conninfo: str) -> str:
    """postgresql://user:password@host:port/dbname, the form people give the command."""
    parts = psycopg.conninfo.conninfo_to_dict(conninfo)
    return (
        f"postgresql://{parts['user']}:{parts['password']}@{parts['host']}:{parts['port']}"
        f"/{parts['dbname']}"
    )


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

    def start(self, *args: str) -> Running:
        process = subprocess.Popen(
            [sys.executable, "-m", "tickwire_cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        return Running(process)


class Running:
    """A command left running (tail --follow): its stdout lines as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def next_json(self, timeout: float = 60) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line within {timeout:.0f}s") from None
        parsed: dict[str, Any] = json.loads(line)
        return parsed

    def kill(self) -> None:
        """SIGKILL: the command gets no chance to finish anything."""
        self.process.kill()
        self.process.wait(30)
        self.pump.join(10)
        assert self.process.stdout is not None and self.process.stderr is not None
        self.process.stdout.close()
        self.process.stderr.close()

    def stop(self) -> tuple[int, str]:
        """SIGINT (Ctrl-C); the exit code and stderr."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(30)
        self.pump.join(10)
        assert self.process.stdout is not None and self.process.stderr is not None
        stderr = self.process.stderr.read()
        self.process.stdout.close()
        self.process.stderr.close()
        return code, stderr

"""Single services as processes, for e2e tests that need more than the standard pipeline:
several ingest instances, a service killed and restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tickwire_core.localstack._process import free_port, spawn, wait_until

T = TypeVar("T")


class Service:
    def __init__(self, module: str, name: str, log_dir: Path, env: dict[str, str]) -> None:
        self.module, self.name = module, name
        self.log_path = log_dir / f"{name}.log"
        self.port = free_port()
        self.env = {
            **os.environ,
            **env,
            "TICKWIRE_HEALTH_HOST": "127.0.0.1",
            "TICKWIRE_HEALTH_PORT": str(self.port),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Service:
        self.start_async()
        return self.wait_ready(timeout)

    def start_async(self) -> Service:
        """Start without waiting for readiness (to start several at once)."""
        self.process = spawn([sys.executable, "-m", self.module], self.log_path, env=self.env)
        return self

    def wait_ready(self, timeout: float = 60.0) -> Service:
        assert self.process is not None, "not started"
        wait_until(
            self._ready,
            what=self.name,
            log_path=self.log_path,
            timeout=timeout,
            process=self.process,
        )
        return self

    def _ready(self) -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as r:
            return bool(r.status == 200)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
                return None
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def base_env(bootstrap: str, database_url: str, topic_prefix: str) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "DATABASE_URL": database_url,
        "TICKWIRE_TOPIC_PREFIX": topic_prefix,
    }


def wait_for(check: Callable[[], T], timeout: float, what: str, interval: float = 0.2) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")

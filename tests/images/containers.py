"""The container runtime as the image tests use it: the images scripts/images.sh built, by name,
and detached containers that are removed, with their volumes, however the test ends."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tickwire_core.localstack._process import REPO_ROOT

CONTAINERS_CONF = REPO_ROOT / "deploy" / "images" / "containers.conf"
SERVICES = ("ingest", "normalize", "signals", "sink", "api")
# The batch jobs' image (the lake export, the quality report): `tickwire`, no service of its own.
JOBS = "jobs"


@dataclass(frozen=True)
class Images:
    runtime: str  # podman or docker
    tags: dict[str, str]  # image name ("sink", "tests", "kafka", ...) -> tag

    @property
    def env(self) -> dict[str, str]:
        """The environment for the runtime: podman reads the repository's settings."""
        return dict(os.environ, CONTAINERS_CONF=str(CONTAINERS_CONF))

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """The runtime's command with `args`; fails the test, with its stderr, when it fails."""
        result = subprocess.run(
            [self.runtime, *args], capture_output=True, text=True, timeout=timeout, env=self.env
        )
        assert result.returncode == 0, f"{self.runtime} {' '.join(args)}: {result.stderr}"
        return result

    @contextmanager
    def container(self, tag: str, *options: str, command: tuple[str, ...] = ()) -> Iterator[str]:
        """A detached container of `tag`, removed with its anonymous volumes on the way out; its
        log is printed on the way out too, for the failing test's report."""
        # Health checks are the compose file's business; podman without systemd only complains.
        name = self.run("run", "--detach", "--no-healthcheck", *options, tag, *command).stdout
        container = name.strip()
        try:
            yield container
        finally:
            logs = subprocess.run(
                [self.runtime, "logs", container],
                capture_output=True,
                text=True,
                timeout=30,
                env=self.env,
            )
            print(logs.stdout[-3000:], logs.stderr[-3000:])
            self.run("rm", "--force", "--volumes", container)


def wait_for(ready: Callable[[], bool], what: str, timeout: float) -> float:
    """Seconds until `ready()` returns true; fails after `timeout`."""
    started = time.monotonic()
    while not ready():
        assert time.monotonic() - started < timeout, f"{what}: not ready after {timeout:.0f} s"
        time.sleep(0.5)
    return time.monotonic() - started

"""docker-compose.yml run as a user runs it, on the images `make images` built: podman-compose (or
docker compose where docker is the runtime) under a project name of the test's own, each service
started once what its `depends_on` conditions ask of the services before it holds."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.images.containers import Images
from tickwire_core.localstack._process import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
TEST_FILE = REPO_ROOT / "docker-compose.test.yml"
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
# What a dependant may ask of a service, weakest first.
CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")


def default_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services a plain `up` starts: those without a profile."""
    return {name: s for name, s in compose["services"].items() if not s.get("profiles")}


def dependencies(service: dict[str, Any]) -> dict[str, str]:
    """The service's dependencies and the condition each must meet, in either of compose's forms."""
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return dict.fromkeys(depends, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in depends.items()}


def start_waves(services: dict[str, dict[str, Any]]) -> list[list[str]]:
    """Services in waves: each wave's dependencies are all in the waves before it."""
    waves: list[list[str]] = []
    placed: set[str] = set()
    while len(placed) < len(services):
        wave = sorted(
            name
            for name, service in services.items()
            if name not in placed and set(dependencies(service)) <= placed
        )
        assert wave, f"a dependency cycle or an unknown dependency among {set(services) - placed}"
        waves.append(wave)
        placed.update(wave)
    return waves


def awaited(services: dict[str, dict[str, Any]]) -> dict[str, str]:
    """What to wait for of each service before the stack counts as up: the strongest condition a
    dependant asks of it; for the others, done (one-shot), healthy (with a check), or running."""
    wanted: dict[str, str] = {}
    for service in services.values():
        for name, condition in dependencies(service).items():
            if CONDITIONS.index(condition) > CONDITIONS.index(wanted.get(name, CONDITIONS[0])):
                wanted[name] = condition
            else:
                wanted.setdefault(name, condition)
    for name, service in services.items():
        if name in wanted:
            continue
        if service.get("restart", "no") == "no":
            wanted[name] = "service_completed_successfully"
        elif not (service.get("healthcheck") or {}).get("disable", False):
            wanted[name] = "service_healthy"
        else:
            wanted[name] = "service_started"
    return wanted


@dataclass
class ComposeStack:
    images: Images
    project: str
    env_file: Path
    settings: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        return default_services(yaml.safe_load(COMPOSE_FILE.read_text()))

    def compose(
        self, *args: str, timeout: float = 300, files: tuple[Path, ...] = (COMPOSE_FILE,)
    ) -> subprocess.CompletedProcess[str]:
        """The compose command on this project; fails the test, with its output, when it fails."""
        command = (
            [str(Path(sys.executable).parent / "podman-compose")]
            if self.images.runtime == "podman"
            else ["docker", "compose"]
        )
        command += ["-p", self.project, "--env-file", str(self.env_file)]
        for file in files:
            command += ["-f", str(file)]
        done = subprocess.run(
            [*command, *args],
            cwd=REPO_ROOT,
            env=self.images.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        output = done.stdout[-3000:] + done.stderr[-3000:]
        assert done.returncode == 0, f"compose {' '.join(args)}: {output}"
        return done

    def runtime(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.images.runtime, *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=self.images.env,
        )
        assert not check or done.returncode == 0, f"{' '.join(args)}: {done.stderr[-2000:]}"
        return done

    def container(self, service: str) -> str:
        """The name of the service's one container."""
        names = self.runtime(
            "ps", "--all", "--format", "{{.Names}}",
            "--filter", f"label={PROJECT_LABEL}={self.project}",
            "--filter", f"label={SERVICE_LABEL}={service}",
        ).stdout.split()  # fmt: skip
        assert len(names) == 1, f"{service}: containers {names}"
        return names[0]

    def state(self, service: str) -> dict[str, Any]:
        inspected = self.runtime("inspect", "--format", "{{json .State}}", self.container(service))
        state: dict[str, Any] = json.loads(inspected.stdout)
        return state

    def healthy(self, service: str) -> bool:
        """Whether the service's health check passes now. podman runs checks on a systemd timer,
        and without systemd never: the check is run here, as the timer would run it."""
        if self.images.runtime == "podman":
            check = self.runtime("healthcheck", "run", self.container(service), check=False)
            return check.returncode == 0
        return self.state(service).get("Health", {}).get("Status") == "healthy"

    def logs(self, service: str) -> str:
        done = self.runtime("logs", "--tail", "40", self.container(service), check=False)
        return done.stdout + done.stderr

    def wait(self, service: str, condition: str, timeout: float = 240) -> float:
        """Seconds until `service` meets `condition`; fails with its log after `timeout`."""
        started = time.monotonic()
        while True:
            if condition == "service_completed_successfully":
                state = self.state(service)
                if state["Status"] == "exited":
                    code = state["ExitCode"]
                    assert code == 0, f"{service} exited {code}:\n{self.logs(service)}"
                    break
            elif condition == "service_healthy":
                if self.healthy(service):
                    break
            elif self.state(service)["Status"] == "running":
                break
            took = time.monotonic() - started
            what = f"{service}: not {condition} after {took:.0f} s"
            assert took < timeout, f"{what}:\n{self.logs(service)}"
            time.sleep(1)
        return time.monotonic() - started

    def up(self) -> None:
        """Start every default service, wave by wave, as `depends_on` orders them."""
        services = self.services
        wanted = awaited(services)
        for wave in start_waves(services):
            self.compose("up", "--detach", "--no-build", "--no-deps", *wave)
            for name in wave:
                self.timings[name] = self.wait(name, wanted[name])

    def kill(self, service: str) -> None:
        self.runtime("kill", "--signal", "KILL", self.container(service))

    def start(self, service: str) -> None:
        """Start the service's stopped container again and wait until it is healthy."""
        self.runtime("start", self.container(service))
        self.wait(service, "service_healthy")

    def volumes(self) -> set[str]:
        """The volumes the project's containers mount, named and anonymous."""
        found = set()
        for service in self.services:
            container = self.container(service)
            inspected = self.runtime("inspect", "--format", "{{json .Mounts}}", container)
            mounts = json.loads(inspected.stdout)
            found |= {m["Name"] for m in mounts if m.get("Type") == "volume"}
        return found

    def leftovers(self, volumes: set[str]) -> dict[str, list[str]]:
        """What of the project is still there: its containers, networks, and the given volumes."""
        label = f"label={PROJECT_LABEL}={self.project}"
        existing = set(self.runtime("volume", "ls", "--format", "{{.Name}}").stdout.split())
        return {
            "containers": self.runtime("ps", "--all", "--quiet", "--filter", label).stdout.split(),
            "networks": self.runtime("network", "ls", "--quiet", "--filter", label).stdout.split(),
            "volumes": sorted(volumes & existing),
        }

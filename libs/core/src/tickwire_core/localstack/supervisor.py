"""The local run keeps its services running: an exit it did not ask for is logged and restarted
under the restart policy, and each service's state is written beside its pid file for `status`."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tickwire_core.errors import StackError
from tickwire_core.localstack.liveness import LivenessProbe
from tickwire_core.localstack.pipeline import Pipeline, service_names
from tickwire_core.localstack.restarts import RestartPolicy, Restarts, ServiceState

logger = logging.getLogger("tickwire.localstack.supervisor")

_SUFFIX = ".state.json"


def describe_exit(code: int) -> str:
    """`exit code 1`, or `killed by SIGKILL` for a signal (Popen's negative return code)."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


@dataclass(frozen=True)
class ServiceReport:
    """What a service's state file says, as `status` shows it."""

    state: str  # a ServiceState value
    restarts: int
    exit_code: int | None  # of its last exit, if it exited
    exited_at: str | None  # ISO 8601, UTC
    restart_in_s: float | None  # while restarting
    log: str

    @property
    def detail(self) -> str | None:
        if self.exit_code is None:
            return None
        parts = [f"last {describe_exit(self.exit_code)} at {self.exited_at}"]
        if self.state == ServiceState.RESTARTING and self.restart_in_s is not None:
            parts.append(f"restarting in {self.restart_in_s:.1f}s")
        elif self.state == ServiceState.CRASH_LOOPING:
            parts.append("left stopped: it kept exiting")
        return "; ".join([*parts, f"log {self.log}"])


def read_reports(services_dir: Path, now: float | None = None) -> dict[str, ServiceReport]:
    """Each service's report from its state file (`now`: wall clock seconds, default now)."""
    now = time.time() if now is None else now
    reports = {}
    for path in sorted(services_dir.glob(f"*{_SUFFIX}")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # removed or being replaced under us: the next look sees it
        restart_at = data.get("restart_at")
        reports[path.name.removesuffix(_SUFFIX)] = ServiceReport(
            state=data["state"],
            restarts=data["restarts"],
            exit_code=data.get("exit_code"),
            exited_at=data.get("exited_at"),
            restart_in_s=None if restart_at is None else round(max(0.0, restart_at - now), 1),
            log=data["log"],
        )
    return reports


class Supervisor:
    """Starts the pipeline's services and, called every second, restarts those that exited.
    `clock` (monotonic) drives the policy; `wall` stamps what `status` shows."""

    def __init__(
        self,
        pipeline: Pipeline,
        policy: RestartPolicy,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.pipeline = pipeline
        self.policy = policy
        self.clock = clock
        self.wall = wall
        self.restarts: dict[str, Restarts] = {}
        self.exits: dict[str, tuple[int, float]] = {}  # name -> last exit code, wall time
        self.liveness = LivenessProbe()

    def start(self, timeout: float = 90.0) -> None:
        """Each service in order, waited for on /readyz; one that exits during start-up is
        restarted like any other, so one broken service does not keep the rest from running."""
        self.clear()
        self.pipeline.prepare()
        for name in service_names(self.pipeline.replica):
            self.pipeline.spawn(name)
            self.restarts[name] = Restarts(self.policy, self.clock())
            self._write(name)
            try:
                self.pipeline.wait_ready(name, timeout)
            except StackError:
                process = self.pipeline.services[name].process
                if process is None or process.poll() is None:
                    raise  # running but never ready: the run's start-up fails, naming its log
                self.record_exit(name, process.returncode)

    def check(self) -> None:
        """Notice exits and start again what is due; never waits for a service to be ready."""
        now = self.clock()
        for name, restarts in self.restarts.items():
            process = self.pipeline.services[name].process
            if restarts.state is ServiceState.RUNNING:
                if process is not None and process.poll() is None:
                    self._kill_if_stuck(name, now)
                if process is not None and process.poll() is not None:
                    self.record_exit(name, process.returncode)
            elif restarts.due(now):
                svc = self.pipeline.spawn(name)
                restarts.restarted(self.clock())
                pid = svc.process.pid if svc.process is not None else 0
                logger.info(
                    "service %s restarted (restart %d) pid=%d", name, restarts.restarts, pid
                )
                self._write(name)

    def _kill_if_stuck(self, name: str, now: float) -> None:
        svc = self.pipeline.services[name]
        if svc.process is None or not self.liveness.kill_if_stuck(
            name, svc.live_url, svc.process, now
        ):
            return
        logger.error(
            "service %s answered /livez with 503 for %.0fs (its loop had stopped moving): "
            "killed to restart it; its log is %s",
            name,
            self.liveness.stuck_for_s,
            svc.log_path,
        )

    def clear(self) -> None:
        """Remove the state files (an earlier run's, or ours once everything stopped)."""
        for path in self.pipeline.state_dir.glob(f"*{_SUFFIX}"):
            path.unlink(missing_ok=True)

    def record_exit(self, name: str, code: int) -> None:
        """A service exited with `code` without being asked to: log it, schedule its restart."""
        svc = self.pipeline.services[name]
        svc.pid_file.path.unlink(missing_ok=True)
        self.exits[name] = (code, self.wall())
        restarts = self.restarts[name]
        if restarts.exited(self.clock()) is ServiceState.CRASH_LOOPING:
            logger.error(
                "service %s exited (%s) %d times within %.0fs: crash-looping, left stopped; "
                "the rest of the pipeline runs on; its log is %s",
                name,
                describe_exit(code),
                self.policy.crash_loop_exits,
                self.policy.crash_loop_window_s,
                svc.log_path,
            )
        else:
            assert restarts.restart_at is not None
            logger.warning(
                "service %s exited (%s); restarting it in %.1fs; its log is %s",
                name,
                describe_exit(code),
                restarts.restart_at - self.clock(),
                svc.log_path,
            )
        self._write(name)

    def _write(self, name: str) -> None:
        restarts = self.restarts[name]
        code, exited = self.exits.get(name, (None, None))
        state = {
            "state": restarts.state.value,
            "restarts": restarts.restarts,
            "exit_code": code,
            "exited_at": None
            if exited is None
            else datetime.fromtimestamp(exited, UTC).isoformat(timespec="seconds"),
            # Wall clock, so that another process (status) can say how long is left.
            "restart_at": None
            if restarts.restart_at is None
            else self.wall() + restarts.restart_at - self.clock(),
            "log": str(self.pipeline.services[name].log_path),
        }
        path = self.pipeline.state_dir / f"{name}{_SUFFIX}"
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(state) + "\n")
        partial.replace(path)  # whole or not at all, for a status reading it meanwhile

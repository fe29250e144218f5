"""What the local run writes about each service it supervises and what `status` reads back: its
state, restarts, last exit and time left before a restart, on clocks the test sets."""

from __future__ import annotations

from pathlib import Path

from tickwire_core.localstack.pipeline import Pipeline
from tickwire_core.localstack.restarts import RestartPolicy, Restarts
from tickwire_core.localstack.supervisor import Supervisor, describe_exit, read_reports

WALL = 1_800_000_000.0  # 2027-01-15T08:00:00Z


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def supervisor(tmp_path: Path, monotonic: Clock) -> Supervisor:
    pipeline = Pipeline(tmp_path, "127.0.0.1:9", "postgresql://x@127.0.0.1:1/x", ports={})
    policy = RestartPolicy(backoff_s=2, crash_loop_exits=2)
    run = Supervisor(pipeline, policy, clock=monotonic, wall=lambda: WALL + monotonic.now)
    run.restarts["normalize"] = Restarts(policy, monotonic.now)
    return run


def test_an_exit_is_reported_with_the_time_left_before_the_restart(tmp_path: Path) -> None:
    monotonic = Clock(100.0)
    run = supervisor(tmp_path, monotonic)
    run.record_exit("normalize", -9)
    [(name, report)] = read_reports(tmp_path, now=WALL + 100.5).items()
    assert name == "normalize"
    assert (report.state, report.restarts, report.exit_code) == ("restarting", 0, -9)
    assert report.exited_at == "2027-01-15T08:01:40+00:00"
    assert report.restart_in_s == 1.5
    assert report.detail == (
        "last killed by SIGKILL at 2027-01-15T08:01:40+00:00; restarting in 1.5s; "
        f"log {tmp_path / 'normalize.log'}"
    )


def test_a_crash_loop_is_reported_as_left_stopped(tmp_path: Path) -> None:
    monotonic = Clock(100.0)
    run = supervisor(tmp_path, monotonic)
    run.record_exit("normalize", 1)
    monotonic.now = 103.0
    run.restarts["normalize"].restarted(monotonic.now)  # what check() does, less the process
    assert run.restarts["normalize"].restarts == 1
    run.record_exit("normalize", 1)
    report = read_reports(tmp_path, now=WALL + 104)["normalize"]
    assert (report.state, report.restarts, report.restart_in_s) == ("crash-looping", 1, None)
    assert report.detail is not None and "exit code 1" in report.detail
    assert "left stopped" in report.detail
    assert run.restarts["normalize"].due(monotonic.now + 10_000) is False
    run.clear()
    assert read_reports(tmp_path) == {}


def test_exits_are_described_by_code_or_signal() -> None:
    assert describe_exit(0) == "exit code 0"
    assert describe_exit(3) == "exit code 3"
    assert describe_exit(-15) == "killed by SIGTERM"
    assert describe_exit(-200) == "exit code -200"

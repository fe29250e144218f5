"""The local run's liveness probe: a service whose health server answers /livez with 503 (its loop
has stopped moving) on every probe for 10 s is killed and restarted; one that answers 200, or
does not answer at all (paused, busy), is left running."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tickwire_core.health import Health, HealthServer
from tickwire_core.localstack._process import free_port
from tickwire_core.localstack.pipeline import Pipeline
from tickwire_core.localstack.restarts import RestartPolicy, Restarts, ServiceState
from tickwire_core.localstack.supervisor import Supervisor


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sleep", "300"])
    yield process
    process.kill()
    process.wait()


def supervised(
    tmp_path: Path, port: int, process: subprocess.Popen[bytes], clock: Clock
) -> Supervisor:
    pipeline = Pipeline(
        tmp_path, "127.0.0.1:9", "postgresql://x@127.0.0.1:1/x", ports={"normalize": port}
    )
    run = Supervisor(pipeline, RestartPolicy(backoff_s=1), clock=clock)
    run.restarts = {"normalize": Restarts(run.policy, clock.now)}
    pipeline.services["normalize"].process = process
    return run


def probe_for(run: Supervisor, clock: Clock, seconds: int) -> None:
    for _ in range(seconds):
        clock.now += 1
        run.check()
        if run.restarts["normalize"].state is not ServiceState.RUNNING:
            return


@pytest.mark.parametrize("beating", [False, True], ids=["loop stuck", "loop moving"])
def test_a_stuck_loop_is_killed_and_restarted_a_moving_one_is_not(
    tmp_path: Path, sleeper: subprocess.Popen[bytes], beating: bool
) -> None:
    health = Health(live_timeout_s=0.0 if not beating else 3600.0)
    server = HealthServer(health, "127.0.0.1", 0).start()
    clock = Clock()
    try:
        run = supervised(tmp_path, server.port, sleeper, clock)
        probe_for(run, clock, 30)
    finally:
        server.stop()
    if beating:
        assert sleeper.poll() is None
        assert run.restarts["normalize"].state is ServiceState.RUNNING
    else:
        assert sleeper.poll() == -9  # killed after 503 on every probe for 10 s, not before
        assert 110.0 <= clock.now <= 116.0
        assert run.exits["normalize"][0] == -9
        assert run.restarts["normalize"].state is ServiceState.RESTARTING


def test_a_service_that_does_not_answer_is_left_running(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    clock = Clock()
    run = supervised(tmp_path, free_port(), sleeper, clock)  # nothing listens there
    probe_for(run, clock, 30)
    assert sleeper.poll() is None
    assert run.restarts["normalize"].state is ServiceState.RUNNING

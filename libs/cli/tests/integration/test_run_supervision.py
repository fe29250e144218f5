"""`tickwire run` keeps its services running: a service killed with SIGKILL is restarted and
`tickwire status` counts it, and one that cannot start ends crash-looping while the rest runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tickwire_core.localstack.config import SERVICE_PORTS
from tickwire_core.localstack.pipeline import SERVICES
from tickwire_testing.cli import Tickwire, as_url, closed_port

pytestmark = pytest.mark.integration

# Short delays keep the test brief; 3 exits make a crash loop (the default is 5).
RESTARTS = {
    "TICKWIRE_RESTART_BACKOFF_S": "0.2",
    "TICKWIRE_RESTART_BACKOFF_MAX_S": "1",
    "TICKWIRE_CRASH_LOOP_EXITS": "3",
    "TICKWIRE_CRASH_LOOP_WINDOW_S": "120",
}
# signals alone reads its rules, and rules that are not JSON stop it at start-up.
BROKEN = "signals"


@dataclass
class LocalRun:
    tickwire: Tickwire
    runner: subprocess.Popen[bytes]
    state: Path
    database_url: str
    log: Path  # the run's output and its log lines

    def status(self) -> tuple[int, dict[str, dict[str, Any]]]:
        """`tickwire status`'s exit code and its process rows by name."""
        done = self.tickwire("status", timeout=60)
        assert "Traceback" not in done.stderr, done.stderr
        rows = [json.loads(line) for line in done.stdout.splitlines()]
        return done.returncode, {r["name"]: r for r in rows if r["kind"] == "process"}

    def wait_for(
        self, what: str, until: Callable[[dict[str, dict[str, Any]]], bool], timeout: float = 90
    ) -> tuple[int, dict[str, dict[str, Any]]]:
        deadline = time.monotonic() + timeout
        code, rows = self.status()
        while not until(rows):
            assert self.runner.poll() is None, f"the run stopped: {self.log.read_text()}"
            assert time.monotonic() < deadline, f"no {what} within {timeout:.0f}s: {rows}"
            time.sleep(0.5)
            code, rows = self.status()
        return code, rows


@pytest.fixture(scope="module")
def local_run(
    stack: Any, module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalRun]:
    """One run on the suite's broker and database, every service on ports of its own, signals
    broken; stopped with Ctrl-C afterwards, which must still stop everything cleanly."""
    root = tmp_path_factory.mktemp("supervised")
    state, log = root / "state", root / "run.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TICKWIRE_", "KAFKA_")) and k != "DATABASE_URL"
    }
    env.update(RESTARTS)
    env.update({var: str(closed_port()) for var, _ in SERVICE_PORTS.values()})
    env.update(
        TICKWIRE_STATE_DIR=str(state),
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers,
        DATABASE_URL=as_url(module_database_url),
        TICKWIRE_RULES="not json",
    )
    tickwire = Tickwire(env)
    with open(log, "wb") as out:
        runner = subprocess.Popen(
            [sys.executable, "-m", "tickwire_cli", "run"], env=env, stdout=out, stderr=out
        )
    run = LocalRun(tickwire, runner, state, module_database_url, log)
    try:
        deadline = time.monotonic() + 180
        while "tickwire is running" not in log.read_text():
            assert runner.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        yield run
    finally:
        runner.send_signal(signal.SIGINT)
        code = runner.wait(90)
    assert code == 0, log.read_text()
    assert not list((state / "services").glob("*.state.json"))  # cleared with the run
    assert not list((state / "services").glob("*.pid"))


def test_a_killed_service_is_restarted_and_counted(local_run: LocalRun) -> None:
    _, rows = local_run.wait_for("normalize", lambda rows: rows["normalize"]["pid"] is not None)
    killed = rows["normalize"]["pid"]
    assert rows["normalize"]["restarts"] == 0
    os.kill(killed, signal.SIGKILL)
    _, rows = local_run.wait_for(
        "restart",
        lambda rows: rows["normalize"]["restarts"] == 1 and rows["normalize"]["pid"] is not None,
    )
    normalize = rows["normalize"]
    assert normalize["state"] == "running" and normalize["pid"] != killed
    assert normalize["exit_code"] == -signal.SIGKILL
    assert "last killed by SIGKILL at " in normalize["detail"]
    normalize_log = local_run.state / "services" / "normalize.log"
    assert normalize["detail"].endswith(f"log {normalize_log}")
    logged = local_run.log.read_text()
    assert "service normalize exited (killed by SIGKILL); restarting it in 0.2s" in logged
    assert f"its log is {normalize_log}" in logged
    # The restarted normalize carries on: new ticks keep reaching the database.
    count = ticks(local_run.database_url)
    deadline = time.monotonic() + 60
    while ticks(local_run.database_url) == count:
        assert time.monotonic() < deadline, "no tick stored after normalize restarted"
        time.sleep(0.5)


def test_a_service_that_cannot_start_ends_crash_looping_while_the_rest_runs(
    local_run: LocalRun,
) -> None:
    code, rows = local_run.wait_for(
        "crash loop", lambda rows: rows[BROKEN]["state"] == "crash-looping"
    )
    assert code == 4  # something runs, yet something is wrong
    broken = rows[BROKEN]
    assert broken["pid"] is None and broken["exit_code"] == 2  # bad settings, named
    assert broken["restarts"] == 2  # started 3 times, exited 3 times
    assert "left stopped" in broken["detail"]
    assert f"service {BROKEN} exited (exit code 2) 3 times within 120s" in local_run.log.read_text()
    signals_log = local_run.state / "services" / f"{BROKEN}.log"
    assert "invalid settings: TICKWIRE_RULES is not valid JSON" in signals_log.read_text()
    others = {name: rows[name]["state"] for name in ("runner", *SERVICES) if name != BROKEN}
    assert set(others.values()) == {"running"}, rows
    # It stays stopped: no restart after the crash loop was declared.
    time.sleep(2)
    code, rows = local_run.status()
    assert (code, rows[BROKEN]["state"], rows[BROKEN]["restarts"]) == (4, "crash-looping", 2)
    count = ticks(local_run.database_url)
    deadline = time.monotonic() + 60
    while ticks(local_run.database_url) == count:
        assert time.monotonic() < deadline, "no tick stored while signals was crash-looping"
        time.sleep(0.5)


def ticks(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM ticks").fetchone()
    return int(row[0]) if row else 0

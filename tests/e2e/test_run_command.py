"""The README's run command (`tickwire run`) as a user runs it: its own Kafka and TimescaleDB, every
service, ticks served by the API and `tickwire status` showing them; Ctrl-C or `tickwire stop` stops
everything, and a killed runner leaves no process behind and does not block the next run."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from tickwire_core.localstack._process import free_port, pid_alive

pytestmark = pytest.mark.e2e


def start(
    state: Path, ports: dict[str, int], log: Path, **addresses: str
) -> subprocess.Popen[bytes]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL"} and not k.startswith("TICKWIRE_")
    }
    env.update({"TICKWIRE_STATE_DIR": str(state), **{k: str(v) for k, v in ports.items()}})
    env.update(addresses)
    with open(log, "wb") as out:
        runner = subprocess.Popen(
            [sys.executable, "-m", "tickwire_cli", "run"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 180
    while "tickwire is running" not in log.read_text():
        assert runner.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.5)
    return runner


def tickwire(
    command: str, state: Path, timeout: float, ports: dict[str, int] | None = None
) -> subprocess.CompletedProcess[str]:
    """Another `tickwire <command>` on the same state directory (and ports), its output piped."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL"} and not k.startswith("TICKWIRE_")
    }
    env.update({k: str(v) for k, v in (ports or {}).items()})
    return subprocess.run(
        [sys.executable, "-m", "tickwire_cli", command],
        env={**env, "TICKWIRE_STATE_DIR": str(state)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def latest(api_port: int) -> dict:
    url = f"http://127.0.0.1:{api_port}/v1/ticks/latest?instrument=SIM-BTC-USD&limit=5"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def status_rows(state: Path, ports: dict[str, int]) -> list[dict]:
    """`tickwire status` as JSON lines, once every service has sent a heartbeat (they beat every
    5 s; the sink writes what it consumes)."""
    deadline = time.monotonic() + 60
    while True:
        done = tickwire("status", state, timeout=60, ports=ports)
        assert done.returncode == 0, done.stderr
        rows = [json.loads(line) for line in done.stdout.splitlines()]
        services = {r["name"].split("/")[0] for r in rows if r["kind"] == "service"}
        if services >= {"sink", "normalize", "ingest"} or time.monotonic() > deadline:
            return rows
        time.sleep(1)


def injected_faults(health_port: int) -> dict[str, float]:
    """The faults ingest's simulator injected so far, by kind, from its /metrics."""
    url = f"http://127.0.0.1:{health_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    found = re.findall(r'^tickwire_ingest_sim_faults_total\{kind="(\w+)"\} (\S+)$', text, re.M)
    return {kind: float(value) for kind, value in found}


def recorded_pids(state: Path) -> dict[str, int]:
    return {p.stem: int(p.read_text()) for p in state.glob("*/*.pid")}


@pytest.fixture
def ports() -> dict[str, int]:
    names = [
        "TICKWIRE_KAFKA_PORT",
        "TICKWIRE_KAFKA_CONTROLLER_PORT",
        "TICKWIRE_PG_PORT",
        "TICKWIRE_API_PORT",
        "TICKWIRE_SINK_HEALTH_PORT",
        "TICKWIRE_NORMALIZE_HEALTH_PORT",
        "TICKWIRE_INGEST_HEALTH_PORT",
        "TICKWIRE_SIGNALS_HEALTH_PORT",
    ]
    chosen: dict[str, int] = {}
    while len(set(chosen.values())) < len(names):
        chosen = {name: free_port() for name in names}
    return chosen


def test_run_serves_simulated_ticks_and_ctrl_c_stops_everything(tmp_path, ports) -> None:
    state = tmp_path / "state"
    runner = start(state, ports, tmp_path / "run.log")
    try:
        deadline = time.monotonic() + 30
        body = latest(ports["TICKWIRE_API_PORT"])
        while body["count"] < 5 and time.monotonic() < deadline:
            time.sleep(0.5)
            body = latest(ports["TICKWIRE_API_PORT"])
        assert body["count"] == 5
        assert all(t["provider"] == "simulator" for t in body["ticks"])
        pids = recorded_pids(state)
        assert set(pids) == {"kafka", "postgres", "sink", "normalize", "signals", "ingest", "api"}
        rows = status_rows(state, ports)
        processes = {r["name"]: r["pid"] for r in rows if r["kind"] == "process"}
        assert processes == {**pids, "runner": runner.pid}
        alive = {r["name"].split("/")[0] for r in rows if r["kind"] == "service"}
        assert alive >= {"sink", "normalize", "ingest"}, rows  # heartbeats reached the database
        assert all(r["state"] == "alive" for r in rows if r["kind"] == "service"), rows
        feeds = [r for r in rows if r["kind"] == "feed"]
        assert feeds and all(r["name"].startswith("simulator/") for r in feeds), rows
        # The run's feed is the product's default, faults included: the first spike comes about
        # 5 s in (seed 42, 200 updates a second), and the anomaly rules get it to judge.
        deadline = time.monotonic() + 60
        faults = injected_faults(ports["TICKWIRE_INGEST_HEALTH_PORT"])
        while faults.get("spike", 0) == 0 and time.monotonic() < deadline:
            time.sleep(0.5)
            faults = injected_faults(ports["TICKWIRE_INGEST_HEALTH_PORT"])
        assert faults.get("spike", 0) > 0, faults
    finally:
        runner.send_signal(signal.SIGINT)
        code = runner.wait(90)
    assert code == 0, (tmp_path / "run.log").read_text()
    log = (tmp_path / "run.log").read_text()
    assert "stopped." in log
    # The banner says where the database is and where its password is kept, never the password.
    password = (state / "postgres" / "password").read_text().strip()
    assert len(password) == 32 and password not in log
    assert f"password in {state / 'postgres' / 'password'}" in log
    assert not [
        name
        for name, pid in pids.items()
        if Path(f"/proc/{pid}/cmdline").exists() and Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert recorded_pids(state) == {}


def test_a_killed_runner_leaves_no_orphans_and_the_next_run_starts(tmp_path, ports) -> None:
    state = tmp_path / "state"
    runner = start(state, ports, tmp_path / "run1.log")
    pids = recorded_pids(state)
    runner.kill()  # SIGKILL: no chance to clean up
    runner.wait(10)
    deadline = time.monotonic() + 60
    alive = dict(pids)
    while alive and time.monotonic() < deadline:
        alive = {n: p for n, p in pids.items() if pid_alive(p, "")}
        time.sleep(0.5)
    assert alive == {}, f"left running after the runner was killed: {alive}"
    # The stale pid files stay behind; the next run must not trip over them.
    assert set(recorded_pids(state)) >= {"kafka", "postgres"}
    second = start(state, ports, tmp_path / "run2.log")
    second.send_signal(signal.SIGINT)
    assert second.wait(90) == 0, (tmp_path / "run2.log").read_text()


def test_the_stop_command_stops_a_running_run_in_order(tmp_path, ports) -> None:
    state = tmp_path / "state"
    runner = start(state, ports, tmp_path / "run.log")
    pids = recorded_pids(state)
    second = tickwire("run", state, timeout=60, ports=ports)
    assert second.returncode == 1 and "another run" in second.stderr  # it did not disturb the first
    stopped = tickwire("stop", state, timeout=180)
    assert stopped.returncode == 0 and "stopped: runner" in stopped.stdout
    assert runner.wait(30) == 0, (tmp_path / "run.log").read_text()
    assert {n: p for n, p in pids.items() if pid_alive(p, "")} == {}
    status = tickwire("status", state, timeout=60, ports=ports)
    assert status.returncode == 3, status.stderr
    rows = [json.loads(line) for line in status.stdout.splitlines()]
    assert {r["name"]: r["state"] for r in rows if r["kind"] == "process"} == {
        name: "stopped" for name in ("runner", "kafka", "postgres", *pids)
    }
    assert [r["state"] for r in rows if r["kind"] == "database"] == ["unreachable"]


def test_run_uses_the_kafka_and_database_named_in_the_environment(
    tmp_path, ports, stack, database_url
) -> None:
    state = tmp_path / "state"
    runner = start(
        state,
        ports,
        tmp_path / "run.log",
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers,
        DATABASE_URL=database_url,
    )
    try:
        assert set(recorded_pids(state)) == {
            "sink",
            "normalize",
            "signals",
            "ingest",
            "api",
        }  # no own stack
        deadline = time.monotonic() + 30
        count = 0
        while count == 0 and time.monotonic() < deadline:
            time.sleep(0.5)
            with psycopg.connect(database_url) as conn:
                count = conn.execute("SELECT count(*) FROM ticks").fetchone()[0]
        assert count > 0
        assert latest(ports["TICKWIRE_API_PORT"])["count"] > 0
    finally:
        runner.send_signal(signal.SIGINT)
        code = runner.wait(90)
    assert code == 0, (tmp_path / "run.log").read_text()
    password = conninfo_to_dict(database_url)["password"]
    assert password and password not in (tmp_path / "run.log").read_text()


def test_a_taken_port_stops_start_up_naming_it(tmp_path, ports) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports["TICKWIRE_API_PORT"]))
        taken.listen()
        env = {**os.environ, **{k: str(v) for k, v in ports.items()}}
        env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
        env.pop("DATABASE_URL", None)
        env["TICKWIRE_STATE_DIR"] = str(tmp_path / "state")
        result = subprocess.run(
            [sys.executable, "-m", "tickwire_cli", "run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    [line] = [x for x in result.stderr.splitlines() if x.startswith("tickwire: error: ")]
    assert f"port {ports['TICKWIRE_API_PORT']} for the api service is taken" in line
    assert "Traceback" not in result.stderr
    assert "TICKWIRE_API_PORT" in result.stderr
    assert recorded_pids(tmp_path / "state") == {}  # nothing was started

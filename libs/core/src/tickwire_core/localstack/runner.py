"""The local run behind `tickwire run | stop | status`: the broker and the database (unless others
are named), every service (restarted when it exits) and the API; Ctrl-C or SIGTERM stops it all."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

from tickwire_core.dsn import database_display
from tickwire_core.errors import StackError
from tickwire_core.localstack._process import PidFile, pid_alive, port_open
from tickwire_core.localstack.config import KAFKA_PORT, PG_PORT, SERVICE_PORTS, LocalRun
from tickwire_core.localstack.kafka import LocalKafka
from tickwire_core.localstack.pipeline import (
    REPLICA,
    SERVICES,
    STOP_ORDER,
    Pipeline,
    module,
    service_names,
)
from tickwire_core.localstack.postgres import SUPERUSER, LocalPostgres
from tickwire_core.localstack.restarts import ServiceState
from tickwire_core.localstack.supervisor import ServiceReport, Supervisor, read_reports

logger = logging.getLogger("tickwire.localstack")

# What `status` lists, in this order.
PROCESSES = ("runner", "kafka", "postgres", *SERVICES)


class RunnerPidFile(PidFile):
    """run.pid: the runner's pid and its own command line, which is the marker, since the runner
    may be `tickwire run`, `python -m tickwire_cli run`, or either with options. A zombie (empty
    command line) or a reused pid does not match."""

    def __init__(self, state: Path) -> None:
        super().__init__(state / "run.pid", marker="\0")  # matches nothing until read

    def write_self(self) -> None:
        cmdline = Path("/proc/self/cmdline").read_bytes().replace(b"\0", b" ").decode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(f"{os.getpid()}\n{cmdline}\n")

    def live_pid(self) -> int | None:
        try:
            pid_text, cmdline = self.path.read_text().split("\n")[:2]
            pid = int(pid_text)
        except (OSError, ValueError):
            return None
        if cmdline and pid_alive(pid, cmdline):
            self.marker = cmdline
            return pid
        self.path.unlink(missing_ok=True)
        return None


def _check_free(port: int, var: str, what: str) -> None:
    if port_open(port):
        raise StackError(
            f"port {port} for {what} is taken by another process; stop it or set "
            f"{var} to a free port"
        )


def run(
    local: LocalRun,
    bootstrap_servers: str | None = None,
    database_url: str | None = None,
    say: Callable[[str], None] = print,
    replica: bool = False,
) -> None:
    """Run until SIGINT or SIGTERM (then return) or until something fails (then raise
    StackError). Kafka and PostgreSQL are started here unless their addresses are given. A service
    that exits is restarted (supervisor.py); Kafka or PostgreSQL exiting stops the run."""
    state = local.state_dir
    other = RunnerPidFile(state).live_pid()
    if other is not None:
        raise StackError(
            f"another run (pid {other}) is using {state}; stop it with `tickwire stop` or "
            "set TICKWIRE_STATE_DIR to another directory"
        )
    stop_all(state)  # whatever a crashed earlier run left behind
    RunnerPidFile(state).write_self()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    kafka = postgres = pipeline = supervisor = None
    try:
        names = service_names(replica)
        for name in names:
            _check_free(local.service_ports[name], SERVICE_PORTS[name][0], f"the {name} service")
        if not bootstrap_servers:
            _check_free(local.kafka_port, KAFKA_PORT[0], "Kafka")
            kafka = LocalKafka(state / "kafka", local.kafka_port, local.kafka_controller_port)
            say(f"starting Kafka on {local.kafka_bootstrap_servers} (log: {kafka.log_path})")
            kafka.start()
            bootstrap_servers = kafka.bootstrap_servers
        if not database_url:
            _check_free(local.pg_port, PG_PORT[0], "PostgreSQL")
            postgres = LocalPostgres(
                state / "postgres", local.pg_port, timescaledb_license=local.timescaledb_license
            )
            say(
                f"starting PostgreSQL/TimescaleDB on 127.0.0.1:{local.pg_port} "
                f"(log: {postgres.log_path})"
            )
            postgres.start()
            say(f"PostgreSQL runs {postgres.build.describe} (license {postgres.license})")
            database_url = postgres.dsn
            database_shown = (
                f"{database_display(database_url)} (user {SUPERUSER}, password in "
                f"{postgres.password_path})"
            )
        else:
            # Named by DATABASE_URL: the caller has its credentials; no log line repeats them.
            database_shown = database_display(database_url)
        pipeline = Pipeline(
            state / "services",
            bootstrap_servers,
            database_url,
            ports=dict(local.service_ports),
            replica=replica,
        )
        supervisor = Supervisor(pipeline, local.restart_policy)
        say("starting services: " + ", ".join(names))
        supervisor.start()
        api = pipeline.urls()["api"]
        say(
            "\ntickwire is running on the simulator feed"
            + (", read by a primary and a replica ingest.\n" if replica else ".\n")
            + f"  API:            {api}/v1/ticks/latest?instrument=SIM-BTC-USD&limit=5\n"
            f"  API docs:       {api}/docs\n"
            f"  Kafka:          {bootstrap_servers}\n"
            f"  Database:       {database_shown}\n"
            f"  Service logs:   {state / 'services'}/<service>.log\n"
            "Ctrl-C stops everything; `tickwire status` shows how it is doing."
        )
        down = [n for n, r in supervisor.restarts.items() if r.state is not ServiceState.RUNNING]
        if down:
            say("not running (see the log and `tickwire status`): " + ", ".join(down))
        while not stop.wait(0.5):
            supervisor.check()
            # The broker and the database are not restarted: starting them waits up to 90 s,
            # which this loop must not, and what ends them here (a full disk, memory) is seldom
            # passing; the run stops and names the log instead.
            if kafka is not None and kafka.running_pid is None:
                raise StackError(f"Kafka exited; its log is {kafka.log_path}")
            if postgres is not None and postgres.running_pid is None:
                raise StackError(f"PostgreSQL exited; its log is {postgres.log_path}")
    finally:
        say("stopping...")
        if pipeline is not None:
            pipeline.stop()
        if supervisor is not None:
            supervisor.clear()
        if kafka is not None:
            kafka.stop()
        if postgres is not None:
            postgres.stop()
        RunnerPidFile(state).path.unlink(missing_ok=True)
        say("stopped.")


def _service_pid_file(state: Path, name: str) -> PidFile:
    return PidFile(state / "services" / f"{name}.pid", module(name))


def stop_all(state: Path) -> list[str]:
    """Stop, from their pid files, everything a run in `state` started: the runner first (it stops
    its services, Kafka and PostgreSQL in order), then anything a crashed run left behind."""
    stopped = []
    if RunnerPidFile(state).stop(timeout=120):
        stopped.append("runner")
    for name in service_names(True, STOP_ORDER):
        if _service_pid_file(state, name).stop():
            stopped.append(name)
    if (state / "kafka").is_dir():
        kafka = LocalKafka(state / "kafka", 0, 1)
        if kafka.running_pid is not None:
            kafka.stop()
            stopped.append("kafka")
    if (state / "postgres").is_dir():
        postgres = LocalPostgres(state / "postgres", 0)
        if postgres.running_pid is not None:
            postgres.stop()
            stopped.append("postgres")
    return stopped


def processes(state: Path) -> dict[str, int | None]:
    """Each process of a run in `state` (PROCESSES order) -> its pid if it runs, else None."""
    pids: dict[str, int | None] = dict.fromkeys(PROCESSES)
    if not state.is_dir():  # never run here: nothing to look for (nor to create)
        return pids
    pids["runner"] = RunnerPidFile(state).live_pid()
    if (state / "kafka").is_dir():
        pids["kafka"] = LocalKafka(state / "kafka", 0, 1).running_pid
    if (state / "postgres").is_dir():
        pids["postgres"] = LocalPostgres(state / "postgres", 0).running_pid
    for name in SERVICES:
        pids[name] = _service_pid_file(state, name).live_pid()
    replica = _service_pid_file(state, REPLICA)
    if replica.path.exists():  # listed only for a run started with a replica
        pids[REPLICA] = replica.live_pid()
    return pids


def supervision(state: Path) -> dict[str, ServiceReport]:
    """Each service of a running run in `state` -> its restarts and state; empty when no run
    runs (a killed runner's state files say nothing about now)."""
    if not state.is_dir() or RunnerPidFile(state).live_pid() is None:
        return {}
    return read_reports(state / "services")

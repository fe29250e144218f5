"""python -m tickwire_core.localstack run|stop|status|install: the README's run command.

`run` starts the broker and the database (unless KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL point
elsewhere), every service with the simulator feed, and the API; Ctrl-C or SIGTERM stops it all."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tickwire_core.errors import StackError, TickwireError
from tickwire_core.localstack._process import REPO_ROOT, PidFile, port_open
from tickwire_core.localstack.kafka import LocalKafka
from tickwire_core.localstack.pipeline import SERVICES, STOP_ORDER, Pipeline
from tickwire_core.localstack.postgres import LocalPostgres

logger = logging.getLogger("tickwire.localstack")


def _port(var: str, default: int) -> int:
    value = os.environ.get(var, str(default))
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise StackError(f"{var}={value!r} is not a port number")
    return int(value)


def _state_dir() -> Path:
    return Path(os.environ.get("TICKWIRE_STATE_DIR") or REPO_ROOT / ".tickwire").resolve()


def _check_free(port: int, var: str, what: str) -> None:
    if port_open(port):
        raise StackError(
            f"port {port} for {what} is taken by another process; stop it or set "
            f"{var} to a free port"
        )


def _runner(state: Path) -> PidFile:
    return PidFile(state / "run.pid", "tickwire_core.localstack run")


def run() -> int:
    state = _state_dir()
    other = _runner(state).live_pid()
    if other is not None:
        print(
            f"error: another run (pid {other}) is using {state}; stop it with `make stop` or "
            "set TICKWIRE_STATE_DIR to another directory",
            file=sys.stderr,
        )
        return 1
    stop_all(state)  # whatever a crashed earlier run left behind
    _runner(state).write(os.getpid())
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    kafka = postgres = pipeline = None
    try:
        ports = {
            "api": _port("TICKWIRE_API_PORT", 8000),
            "sink": _port("TICKWIRE_SINK_HEALTH_PORT", 18081),
            "normalize": _port("TICKWIRE_NORMALIZE_HEALTH_PORT", 18082),
            "ingest": _port("TICKWIRE_INGEST_HEALTH_PORT", 18083),
            "signals": _port("TICKWIRE_SIGNALS_HEALTH_PORT", 18084),
        }
        for name, port in ports.items():
            var = "TICKWIRE_API_PORT" if name == "api" else f"TICKWIRE_{name.upper()}_HEALTH_PORT"
            _check_free(port, var, f"the {name} service")
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if not bootstrap:
            kafka_port = _port("TICKWIRE_KAFKA_PORT", 19092)
            _check_free(kafka_port, "TICKWIRE_KAFKA_PORT", "Kafka")
            kafka = LocalKafka(
                state / "kafka", kafka_port, _port("TICKWIRE_KAFKA_CONTROLLER_PORT", 19093)
            )
            print(f"starting Kafka on 127.0.0.1:{kafka_port} (log: {kafka.log_path})", flush=True)
            kafka.start()
            bootstrap = kafka.bootstrap_servers
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            pg_port = _port("TICKWIRE_PG_PORT", 15432)
            _check_free(pg_port, "TICKWIRE_PG_PORT", "PostgreSQL")
            postgres = LocalPostgres(state / "postgres", pg_port)
            print(
                f"starting PostgreSQL/TimescaleDB on 127.0.0.1:{pg_port} "
                f"(log: {postgres.log_path})",
                flush=True,
            )
            postgres.start()
            database_url = postgres.dsn
        pipeline = Pipeline(state / "services", bootstrap, database_url, ports=ports)
        print("starting services: " + ", ".join(SERVICES), flush=True)
        pipeline.start()
        api = pipeline.urls()["api"]
        print(
            "\ntickwire is running on the simulator feed.\n"
            f"  API:            {api}/v1/ticks/latest?instrument=SIM-BTC-USD&limit=5\n"
            f"  API docs:       {api}/docs\n"
            f"  Kafka:          {bootstrap}\n"
            f"  Database:       {database_url}\n"
            f"  Service logs:   {state / 'services'}/<service>.log\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        while not stop.wait(1.0):
            for name, svc in pipeline.services.items():
                if svc.process is not None and svc.process.poll() is not None:
                    raise StackError(
                        f"service {name} exited with code {svc.process.returncode}; "
                        f"its log is {svc.log_path}"
                    )
        return 0
    except TickwireError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        print("stopping...", flush=True)
        if pipeline is not None:
            pipeline.stop()
        if kafka is not None:
            kafka.stop()
        if postgres is not None:
            postgres.stop()
        _runner(state).path.unlink(missing_ok=True)
        print("stopped.", flush=True)


def stop_all(state: Path) -> list[str]:
    """Stop, from their pid files, everything a run in `state` started: the runner first (it stops
    its services, Kafka and PostgreSQL in order), then anything a crashed run left behind."""
    stopped = []
    if _runner(state).stop(timeout=120):
        stopped.append("runner")
    for name in STOP_ORDER:
        if PidFile(state / "services" / f"{name}.pid", f"tickwire_{name}").stop():
            stopped.append(name)
    kafka = LocalKafka(state / "kafka", 0, 1)
    if kafka.running_pid is not None:
        kafka.stop()
        stopped.append("kafka")
    postgres = LocalPostgres(state / "postgres", 0)
    if postgres.running_pid is not None:
        postgres.stop()
        stopped.append("postgres")
    return stopped


def status(state: Path) -> int:
    running = 0
    pids = {"runner": _runner(state).live_pid()}
    pids |= {
        n: PidFile(state / "services" / f"{n}.pid", f"tickwire_{n}").live_pid() for n in SERVICES
    }
    pids["kafka"] = LocalKafka(state / "kafka", 0, 1).running_pid
    pids["postgres"] = LocalPostgres(state / "postgres", 0).running_pid
    for name, pid in pids.items():
        running += pid is not None
        print(f"{name:10} {'running pid ' + str(pid) if pid else 'stopped'}")
    return 0 if running else 3


def install() -> int:
    for script in ("install-kafka.sh", "install-timescaledb.sh"):
        subprocess.run(["bash", str(REPO_ROOT / "scripts" / script)], check=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tickwire_core.localstack", description=__doc__)
    parser.add_argument("command", choices=["run", "stop", "status", "install"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.command == "run":
        return run()
    if args.command == "stop":
        stopped = stop_all(_state_dir())
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    if args.command == "status":
        return status(_state_dir())
    return install()


if __name__ == "__main__":
    raise SystemExit(main())

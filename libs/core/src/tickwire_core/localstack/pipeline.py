"""The pipeline's services as local processes: started in data-flow order against a given Kafka
and database, each waited for on /readyz, stopped with SIGTERM in the same order."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tickwire_core.localstack._process import PidFile, free_port, spawn, wait_until
from tickwire_core.topics import create_topics

logger = logging.getLogger(__name__)

# Start order: consumers first, so nothing the feed publishes waits on a service still starting.
SERVICES = ("sink", "normalize", "signals", "ingest", "api")
# Stop order: the feed first, then each stage once nothing new reaches it.
STOP_ORDER = ("ingest", "normalize", "signals", "sink", "api")
# A second ingest instance of the same feed (`tickwire run --replica`), started right after the
# primary so that normalize sees each update twice and keeps it once.
REPLICA = "ingest-replica"
EPOCH_VAR = "TICKWIRE_SIM_EPOCH_S"  # the simulated venue's start (docs/simulator.md)


def service_names(replica: bool, order: tuple[str, ...] = SERVICES) -> tuple[str, ...]:
    """The services of a run in `order`, the replica beside ingest when there is one."""
    if not replica:
        return order
    at = order.index("ingest") + 1
    return (*order[:at], REPLICA, *order[at:])


def module(name: str) -> str:
    return "tickwire_ingest" if name == REPLICA else f"tickwire_{name}"


@dataclass
class ServiceProcess:
    name: str
    port: int  # /readyz port: the API's own port, or the health port of the others
    env: dict[str, str]
    log_path: Path
    pid_file: PidFile
    process: subprocess.Popen[bytes] | None = None

    @property
    def ready_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/readyz"

    @property
    def live_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/livez"

    def is_ready(self) -> bool:
        with urllib.request.urlopen(self.ready_url, timeout=2) as response:
            return bool(response.status == 200)


@dataclass
class Pipeline:
    state_dir: Path
    kafka_bootstrap_servers: str
    database_url: str
    topic_prefix: str = ""
    ports: dict[str, int] = field(default_factory=dict)
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    replica: bool = False
    services: dict[str, ServiceProcess] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        base = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
            "DATABASE_URL": self.database_url,
            "TICKWIRE_TOPIC_PREFIX": self.topic_prefix,
            "TICKWIRE_HEALTH_HOST": "127.0.0.1",
            "TICKWIRE_API_HOST": "127.0.0.1",
            # The local run serves only this machine: open access is chosen explicitly here.
            "TICKWIRE_ALLOW_ANONYMOUS": "true",
        }
        for name in service_names(self.replica):
            port = self.ports.get(name) or free_port()
            port_var = "TICKWIRE_API_PORT" if name == "api" else "TICKWIRE_HEALTH_PORT"
            env = {
                **base,
                port_var: str(port),
                "TICKWIRE_INSTANCE_ID": f"local-{name}",
                **self.service_env.get(name, {}),
            }
            if name == REPLICA:
                env["TICKWIRE_INGEST_INSTANCE"] = "replica"
            self.services[name] = ServiceProcess(
                name,
                port,
                env,
                self.state_dir / f"{name}.log",
                PidFile(self.state_dir / f"{name}.pid", module(name)),
            )

    def start(self, timeout: float = 90.0) -> None:
        """Start every service in order, each once the one before is ready."""
        self.prepare()
        for name in service_names(self.replica):
            self.spawn(name)
            self.wait_ready(name, timeout)

    def prepare(self) -> None:
        """What precedes the first start: leftovers stopped, topics created, logs emptied."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.stop_leftovers()
        created = create_topics(self.kafka_bootstrap_servers, prefix=self.topic_prefix)
        logger.info("topics created: %s", created or "none (all existed)")
        for svc in self.services.values():
            svc.log_path.write_text("")

    def spawn(self, name: str) -> ServiceProcess:
        """Start one service without waiting for it; a restart appends to the same log."""
        svc = self.services[name]
        if self.replica and name in ("ingest", REPLICA):
            self._share_venue_epoch()
        svc.process = spawn([sys.executable, "-m", module(name)], svc.log_path, env=svc.env)
        svc.pid_file.write(svc.process.pid)
        return svc

    def _share_venue_epoch(self) -> None:
        """A primary and its replica on the simulator run one venue: given its start at their
        first spawn (unless set), they stamp each update with the same exchange time, and
        restarts keep it."""
        feeds = [self.services["ingest"].env, self.services[REPLICA].env]
        epoch = next((env[EPOCH_VAR] for env in feeds if EPOCH_VAR in env), f"{time.time():.6f}")
        for env in feeds:
            env.setdefault(EPOCH_VAR, epoch)

    def wait_ready(self, name: str, timeout: float = 90.0) -> None:
        """Until the service answers /readyz; StackError if it exits or takes too long."""
        svc = self.services[name]
        wait_until(
            svc.is_ready,
            what=f"service {name}",
            log_path=svc.log_path,
            timeout=timeout,
            process=svc.process,
        )
        logger.info("service %s ready on port %d", name, svc.port)

    def stop(self, timeout: float = 30.0) -> dict[str, int | None]:
        """SIGTERM in stop order; returns each service's exit code (None if it was not ours)."""
        codes: dict[str, int | None] = {}
        for name in service_names(self.replica, STOP_ORDER):
            svc = self.services[name]
            proc = svc.process
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    codes[name] = proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    logger.warning(
                        "service %s ignored SIGTERM for %.0fs; killing it", name, timeout
                    )
                    proc.kill()
                    codes[name] = proc.wait(5)
            elif proc is not None:
                codes[name] = proc.returncode
            else:
                codes[name] = None
            svc.pid_file.path.unlink(missing_ok=True)
        return codes

    def stop_leftovers(self) -> list[str]:
        """Stop services a crashed earlier run left behind in this state dir."""
        names = service_names(self.replica, STOP_ORDER)
        return [name for name in names if self.services[name].pid_file.stop()]

    def urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{svc.port}" for name, svc in self.services.items()}

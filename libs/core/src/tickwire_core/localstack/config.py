"""Where the local run lives: its state directory, the ports of its broker, database and services,
its TimescaleDB build and its services' restart policy, read once from the environment
(TICKWIRE_STATE_DIR, TICKWIRE_*_PORT, TICKWIRE_TIMESCALEDB_LICENSE, TICKWIRE_RESTART_*) once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tickwire_core.errors import ConfigError
from tickwire_core.localstack._process import REPO_ROOT
from tickwire_core.localstack.postgres import stored_dsn
from tickwire_core.localstack.restarts import RestartPolicy
from tickwire_core.localstack.timescaledb import requested_license

# Each service's /readyz port (the API's own port): the variable that moves it and its default.
SERVICE_PORTS = {
    "api": ("TICKWIRE_API_PORT", 8000),
    "sink": ("TICKWIRE_SINK_HEALTH_PORT", 18081),
    "normalize": ("TICKWIRE_NORMALIZE_HEALTH_PORT", 18082),
    "ingest": ("TICKWIRE_INGEST_HEALTH_PORT", 18083),
    "signals": ("TICKWIRE_SIGNALS_HEALTH_PORT", 18084),
    "ingest-replica": ("TICKWIRE_INGEST_REPLICA_HEALTH_PORT", 18085),
}
KAFKA_PORT = ("TICKWIRE_KAFKA_PORT", 19092)
KAFKA_CONTROLLER_PORT = ("TICKWIRE_KAFKA_CONTROLLER_PORT", 19093)
PG_PORT = ("TICKWIRE_PG_PORT", 15432)


def _port(environ: Mapping[str, str], var: str, default: int) -> int:
    value = environ.get(var) or str(default)
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"{var}={value!r} is not a port number")
    return int(value)


@dataclass(frozen=True)
class LocalRun:
    state_dir: Path
    kafka_port: int = KAFKA_PORT[1]
    kafka_controller_port: int = KAFKA_CONTROLLER_PORT[1]
    pg_port: int = PG_PORT[1]
    service_ports: Mapping[str, int] = field(
        default_factory=lambda: {name: default for name, (_, default) in SERVICE_PORTS.items()}
    )
    # "timescale", "apache", or None for the full build where installed (timescaledb.choose).
    timescaledb_license: str | None = None
    restart_policy: RestartPolicy = field(default_factory=RestartPolicy)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> LocalRun:
        state = environ.get("TICKWIRE_STATE_DIR") or REPO_ROOT / ".tickwire"
        return cls(
            state_dir=Path(state).resolve(),
            kafka_port=_port(environ, *KAFKA_PORT),
            kafka_controller_port=_port(environ, *KAFKA_CONTROLLER_PORT),
            pg_port=_port(environ, *PG_PORT),
            service_ports={name: _port(environ, *var) for name, var in SERVICE_PORTS.items()},
            timescaledb_license=requested_license(environ),
            restart_policy=RestartPolicy.from_environ(environ),
        )

    @property
    def kafka_bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def database_url(self) -> str:
        """The local run's database, with the password its PostgreSQL keeps in the state dir."""
        return stored_dsn(self.state_dir / "postgres", self.pg_port)

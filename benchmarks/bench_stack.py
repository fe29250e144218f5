"""What the end-to-end benchmarks share: Kafka and a durable PostgreSQL + TimescaleDB started under
a work folder, each unless KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL names one, stopped afterwards."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tickwire_core.localstack.kafka import LocalKafka
from tickwire_core.localstack.postgres import LocalPostgres


@dataclass
class BenchStack:
    database_url: str
    bootstrap: str | None  # None where Kafka was not asked for
    servers: dict[str, int] = field(default_factory=dict)  # pids of the servers started here


@contextlib.contextmanager
def bench_stack(work: Path, *, kafka: bool = True) -> Iterator[BenchStack]:
    """The stack under `work`; PostgreSQL with its durable settings (fsync, synchronous commit),
    as a user would run it. `kafka=False` starts no broker."""
    bootstrap, url = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("DATABASE_URL")
    broker = postgres = None
    try:
        servers = {}
        if not url:
            postgres = LocalPostgres(work / "postgres")
            postgres.start()
            url = postgres.dsn
            servers["PostgreSQL"] = postgres.running_pid
        if kafka and not bootstrap:
            broker = LocalKafka(work / "kafka")
            broker.start()
            bootstrap = broker.bootstrap_servers
            servers["the Kafka broker"] = broker.running_pid
        yield BenchStack(
            url,
            bootstrap if kafka else None,
            {name: pid for name, pid in servers.items() if pid is not None},
        )
    finally:
        if broker is not None:
            broker.stop()
        if postgres is not None:
            postgres.stop()

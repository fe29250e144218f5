"""What the end-to-end benchmarks share: Kafka and a durable PostgreSQL + TimescaleDB started under
a work folder, each unless KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL names one, stopped afterwards."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tickwire_core.localstack.kafka import LocalKafka
from tickwire_core.localstack.pipeline import Pipeline
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


def simulator_pipeline(
    work: Path, bootstrap: str, database_url: str, *, count: int, rate: float, mark: str
) -> tuple[Pipeline, str]:
    """Every service on topics and consumer groups of a run of its own, ingest's simulator sending
    `count` ticks (0: until stopped) at `rate` a second (0: as fast as it can), no faults, on four
    instruments named after the run; with the SQL LIKE pattern of those instruments, so a database
    that holds other runs' rows counts only this one's."""
    run_id = uuid.uuid4().hex[:6]
    prefix = f"bench{run_id}."
    instruments = ",".join(f"{mark}{run_id}-{i}:{100 * (i + 1)}" for i in range(4))
    pipeline = Pipeline(
        work / "services",
        bootstrap,
        database_url,
        topic_prefix=prefix,
        service_env={
            "ingest": {
                "TICKWIRE_SIM_COUNT": str(count),
                "TICKWIRE_SIM_RATE": f"{rate:g}",
                "TICKWIRE_SIM_FAULTS": "false",
                "TICKWIRE_SIM_INSTRUMENTS": instruments,
            },
            "normalize": {"TICKWIRE_CONSUMER_GROUP": f"{prefix}normalize"},
            "sink": {"TICKWIRE_CONSUMER_GROUP": f"{prefix}sink"},
        },
    )
    return pipeline, f"{mark}{run_id}-%"


def on_a_stack(run: Callable[[str, str, dict[str, int], Path], bool]) -> int:
    """`run(bootstrap, database_url, servers, work)` on a stack of its own under a fresh work
    folder: exit code 0 when it returns True, and then the folder (the stack's data) goes; a
    failure keeps it and the services' logs."""
    work = Path(tempfile.mkdtemp(prefix="tickwire-bench-"))
    with bench_stack(work) as stack:
        assert stack.bootstrap is not None
        ok = run(stack.bootstrap, stack.database_url, stack.servers, work)
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1

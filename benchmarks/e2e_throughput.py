"""End-to-end throughput of the skeleton: N simulated ticks through ingest -> Kafka -> normalize ->
Kafka -> sink -> TimescaleDB, each service its own process, on the local stack.

Measures from the first tick's receipt by ingest to the moment the database holds all N rows.
Usage: python benchmarks/e2e_throughput.py [N]
(KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL, when set, name the broker and database to use)"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from bench_results import record
from proc_stats import cpu_seconds, family

from tickwire_core.localstack.kafka import LocalKafka
from tickwire_core.localstack.pipeline import Pipeline
from tickwire_core.localstack.postgres import LocalPostgres


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    work = Path(tempfile.mkdtemp(prefix="tickwire-bench-"))
    kafka = postgres = None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    database_url = os.environ.get("DATABASE_URL")
    try:
        if not bootstrap:
            kafka = LocalKafka(work / "kafka")
            kafka.start()
            bootstrap = kafka.bootstrap_servers
        if not database_url:
            postgres = LocalPostgres(work / "postgres")  # durable settings, as a user would run it
            postgres.start()
            database_url = postgres.dsn
        run_id = uuid.uuid4().hex[:6]
        prefix = f"bench{run_id}."
        # Instruments unique to this run, so an existing database's rows are not counted.
        instruments = ",".join(f"B{run_id}-{i}:{100 * (i + 1)}" for i in range(4))
        pipeline = Pipeline(
            work / "services",
            bootstrap,
            database_url,
            topic_prefix=prefix,
            service_env={
                "ingest": {
                    "TICKWIRE_SIM_COUNT": str(n),
                    "TICKWIRE_SIM_RATE": "0",
                    "TICKWIRE_SIM_FAULTS": "false",
                    "TICKWIRE_SIM_INSTRUMENTS": instruments,
                },
                "normalize": {"TICKWIRE_CONSUMER_GROUP": f"{prefix}normalize"},
                "sink": {"TICKWIRE_CONSUMER_GROUP": f"{prefix}sink"},
            },
        )
        pipeline.start()
        count = 0
        deadline = time.monotonic() + 1800
        with psycopg.connect(database_url, autocommit=True) as conn:
            while count < n and time.monotonic() < deadline:
                time.sleep(0.2)
                count = conn.execute(
                    "SELECT count(*) FROM ticks WHERE instrument LIKE %s", (f"B{run_id}-%",)
                ).fetchone()[0]
            done_us = time.time_ns() // 1000
            first_us = conn.execute(
                "SELECT (extract(epoch FROM min(received_ts)) * 1e6)::bigint FROM ticks "
                "WHERE instrument LIKE %s",
                (f"B{run_id}-%",),
            ).fetchone()[0]
        cpu = {
            name: cpu_seconds(svc.process.pid)
            for name, svc in pipeline.services.items()
            if svc.process is not None
        }
        if kafka is not None and kafka.running_pid:
            cpu["kafka"] = cpu_seconds(kafka.running_pid)
        if postgres is not None and postgres.running_pid:
            cpu["postgres"] = sum(cpu_seconds(p) for p in family(postgres.running_pid))
        pipeline.stop()
        seconds = (done_us - first_us) / 1e6
        print(
            f"machine: {platform.machine()} {os.cpu_count()} cores, "
            f"Python {platform.python_version()}"
        )
        print(
            f"ticks: {count} of {n} in {seconds:.2f} s -> {count / seconds:,.0f} ticks/s end to end"
        )
        if count == n:
            record("e2e_throughput", {"ticks_per_s": count / seconds})
        print("CPU seconds used since start (what bounds the throughput on 2 cores):")
        for name, used in sorted(cpu.items(), key=lambda kv: -kv[1]):
            print(f"  {name:10} {used:6.1f} s")
        return 0 if count == n else 1
    finally:
        if kafka is not None:
            kafka.stop()
        if postgres is not None:
            postgres.stop()


if __name__ == "__main__":
    raise SystemExit(main())

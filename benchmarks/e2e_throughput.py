"""End-to-end throughput of the skeleton: N simulated ticks through ingest -> Kafka -> normalize ->
Kafka -> sink -> TimescaleDB, each service its own process, on the local stack.

Measures from the first tick's receipt by ingest to the moment the database holds all N rows.
Usage: python benchmarks/e2e_throughput.py [N]
(KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL, when set, name the broker and database to use)"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import psycopg
from bench_results import record
from bench_stack import on_a_stack, simulator_pipeline
from proc_stats import cpu_seconds, family_cpu


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    return on_a_stack(lambda *stack: run(n, *stack))


def run(n: int, bootstrap: str, database_url: str, servers: dict[str, int], work: Path) -> bool:
    """N simulator ticks through every service; True when all N were stored."""
    pipeline, like = simulator_pipeline(work, bootstrap, database_url, count=n, rate=0, mark="B")
    pipeline.start()
    try:
        count = 0
        deadline = time.monotonic() + 1800
        with psycopg.connect(database_url, autocommit=True) as conn:
            while count < n and time.monotonic() < deadline:
                time.sleep(0.2)
                count = conn.execute(
                    "SELECT count(*) FROM ticks WHERE instrument LIKE %s", (like,)
                ).fetchone()[0]
            done_us = time.time_ns() // 1000
            first_us = conn.execute(
                "SELECT (extract(epoch FROM min(received_ts)) * 1e6)::bigint FROM ticks "
                "WHERE instrument LIKE %s",
                (like,),
            ).fetchone()[0]
        cpu = {
            name: cpu_seconds(svc.process.pid)
            for name, svc in pipeline.services.items()
            if svc.process is not None
        }
        cpu.update({name: sum(family_cpu(pid).values()) for name, pid in servers.items()})
    finally:
        pipeline.stop()
    seconds = (done_us - first_us) / 1e6
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"ticks: {count} of {n} in {seconds:.2f} s -> {count / seconds:,.0f} ticks/s end to end")
    if count == n:
        record("e2e_throughput", {"ticks_per_s": count / seconds})
    print("CPU seconds used since start (what bounds the throughput on 2 cores):")
    for name, used in sorted(cpu.items(), key=lambda kv: -kv[1]):
        print(f"  {name:16} {used:6.1f} s")
    return bool(count == n)


if __name__ == "__main__":
    raise SystemExit(main())

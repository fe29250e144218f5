"""PostgreSQL stopped for 30 s while ticks flow, then started again: every tick ends in the
database exactly once, the sink's circuit opened while the database was away, and the sink's
memory stayed bounded (its partitions are paused, so nothing piles up)."""

import re
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest

from tickwire_core.localstack.postgres import LocalPostgres
from tickwire_testing.processes import Service, base_env, wait_for

pytestmark = pytest.mark.e2e

N = 45_000
RATE = 1_500  # ticks per second: the feed runs for 30 s


def rows(database_url: str) -> tuple[int, int]:
    try:
        with psycopg.connect(database_url, connect_timeout=2) as conn:
            return conn.execute(
                "SELECT count(*), count(DISTINCT (provider, instrument, kind, dedup_key, "
                "exchange_ts)) FROM ticks"
            ).fetchone()
    except psycopg.OperationalError:
        return (-1, -1)


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def circuit(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
        text = response.read().decode()
    return float(re.search(r"^tickwire_circuit_state (\S+)$", text, re.M).group(1))


def test_a_30s_database_outage_loses_and_duplicates_nothing(stack, topic_prefix, tmp_path) -> None:
    postgres = LocalPostgres(tmp_path / "pg", fast_unsafe=True)
    postgres.start()
    database_url = postgres.dsn
    env = {
        **base_env(stack.kafka_bootstrap_servers, database_url, topic_prefix),
        "TICKWIRE_CONSUMER_GROUP": f"{topic_prefix}g",
    }

    def service(module: str, **extra: str) -> Service:
        name = module.removeprefix("tickwire_")
        return Service(module, name, tmp_path, {**env, "TICKWIRE_INSTANCE_ID": name, **extra})

    sink = service("tickwire_sink").start()
    started = [sink, service("tickwire_normalize").start()]
    started.append(
        service(
            "tickwire_ingest",
            TICKWIRE_SIM_COUNT=str(N),
            TICKWIRE_SIM_RATE=str(RATE),
            TICKWIRE_SIM_FAULTS="false",  # counts every tick: the clean feed
            TICKWIRE_SIM_INSTRUMENTS="OUT-A:100,OUT-B:20:0.05",
        ).start()
    )
    try:
        wait_for(lambda: rows(database_url)[0] > 2_000, 60, "rows before the outage")
        assert sink.process is not None
        before = rss_mib(sink.process.pid)
        postgres.stop()
        outage_ends = time.monotonic() + 30
        peak, opened = before, False
        while time.monotonic() < outage_ends:
            peak = max(peak, rss_mib(sink.process.pid))
            opened = opened or circuit(sink.port) == 1
            time.sleep(1)
        postgres.start()
        assert opened, "the sink's circuit never opened while the database was down"
        assert peak - before < 64, f"sink memory grew from {before:.0f} to {peak:.0f} MiB"

        def settled() -> bool:
            first = rows(database_url)
            time.sleep(2)
            return first == rows(database_url) and first[0] == N

        wait_for(settled, 120, f"{N} rows after the outage")
        assert rows(database_url) == (N, N)
        assert circuit(sink.port) == 0
    finally:
        codes = {s.name: s.stop() for s in reversed(started)}
        postgres.stop()
    assert codes == {"ingest": 0, "normalize": 0, "sink": 0}

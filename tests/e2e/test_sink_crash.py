"""The sink killed with -9 mid-stream (between a database commit and its offset commit, among
other places) and restarted, and two sinks starting at once on an empty database (both migrate):
every tick ends in the database exactly once."""

import time

import psycopg
import pytest

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import TICKS, tick_key
from tickwire_testing.kafka import produce
from tickwire_testing.processes import Service, base_env, wait_for
from tickwire_testing.ticks import trade

pytestmark = pytest.mark.e2e

N = 60_000
T0 = 1_800_000_000_000_000


def counts(database_url: str) -> tuple[int, int]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (instrument, dedup_key, exchange_ts)) FROM ticks"
        ).fetchone()
    assert row is not None
    return row


def table_exists(database_url: str) -> bool:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT to_regclass('ticks') IS NOT NULL").fetchone() == (True,)


def test_killed_sinks_and_racing_migrations_leave_each_tick_once(
    stack, topic_prefix, database_url, tmp_path
) -> None:
    serde = AvroSerde()
    ticks = [trade(f"K-{i % 7}", T0 + i, 10.0 + (i % 100) / 10, 1.0) for i in range(N)]
    produce(
        stack.kafka_bootstrap_servers,
        topic_prefix + TICKS,
        [(tick_key("simulator", t["instrument"]), serde.encode("tick", t)) for t in ticks],
    )
    env = {
        **base_env(stack.kafka_bootstrap_servers, database_url, topic_prefix),
        "TICKWIRE_CONSUMER_GROUP": f"{topic_prefix}sink",
        "TICKWIRE_BATCH_SIZE": "2000",
    }

    def sink(name: str) -> Service:
        return Service("tickwire_sink", name, tmp_path, {**env, "TICKWIRE_INSTANCE_ID": name})

    # Two sinks start at once on a database without tables: both run the migrations.
    first, second = sink("sink-a"), sink("sink-b")
    for svc in (first, second):
        svc.start_async()
    for svc in (first, second):
        svc.wait_ready(60)
    assert table_exists(database_url)
    third: Service | None = None
    try:
        wait_for(lambda: counts(database_url)[0] > N // 5, 60, "rows before the kill")
        first.kill()
        second.kill()
        assert counts(database_url)[0] < N, "the sinks must be killed mid-stream"
        time.sleep(0.5)
        third = sink("sink-c").start()

        def settled() -> bool:
            before = counts(database_url)
            time.sleep(2)
            return before == counts(database_url) and before[0] == N

        wait_for(settled, 120, f"{N} rows")
        assert counts(database_url) == (N, N)
    finally:
        code = third.stop() if third is not None else None
        first.stop()
        second.stop()
    assert code == 0

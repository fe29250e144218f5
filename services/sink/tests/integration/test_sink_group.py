"""Two sinks in one consumer group against the real broker and database: across the rebalances
of one joining and one leaving, every tick is stored once and each feed counts it once."""

import time
from typing import Any

import psycopg
import pytest

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import TICKS, tick_key
from tickwire_sink.app import bootstrap
from tickwire_sink.settings import SinkSettings
from tickwire_testing.kafka import produce
from tickwire_testing.loops import running

pytestmark = pytest.mark.integration

T0 = 1_700_000_000_000_000
FEEDS = 12  # spread over the topic's partitions, so each sink gets some
PER_STEP = 3_000


def ticks(start: int, n: int) -> list[dict[str, Any]]:
    return [
        {
            "provider": "simulator",
            "instrument": f"SIM-{i % FEEDS}",
            "kind": "trade",
            "exchange_ts": T0 + i,
            "received_ts": T0 + i + 9,
            "last_traded_price": 10.0 + i % 100,
            "last_traded_volume": 1.0,
            "trade_id": f"T{i}",
            "side": "buy",
        }
        for i in range(start, start + n)
    ]


def stored(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM ticks").fetchone()
    return int(row[0]) if row else 0


def wait_for(database_url: str, rows: int) -> None:
    deadline = time.monotonic() + 90
    while stored(database_url) < rows and time.monotonic() < deadline:
        time.sleep(0.2)


def test_two_sinks_store_and_count_each_tick_once_across_rebalances(
    stack, topic_prefix, database_url
) -> None:
    serde = AvroSerde()
    topic = topic_prefix + TICKS

    def send(start: int) -> None:
        batch = ticks(start, PER_STEP)
        records = [(tick_key("simulator", t["instrument"]), serde.encode("tick", t)) for t in batch]
        produce(stack.kafka_bootstrap_servers, topic, records)

    loops: dict[str, Any] = {}

    def sink(name: str) -> Any:
        settings = SinkSettings(
            KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers,
            DATABASE_URL=database_url,
            topic_prefix=topic_prefix,
            consumer_group=f"{topic_prefix}sink",
            instance_id=name,
            batch_size=100,  # many small batches: the rebalances fall between and within them
        )

        def build(health: Any, stop: Any) -> Any:
            loops[name] = bootstrap(settings, health, stop)
            return loops[name]

        return build

    def holds_partitions(name: str) -> bool:
        # librdkafka's handle may be asked from another thread.
        return bool(loops[name].consumer.assignment())

    with running(sink("sink-a")):
        send(0)
        with running(sink("sink-b")):  # joins while the first sink is writing
            # New ticks once it holds partitions of its own: joining takes a rebalance. Whether
            # it stores any depends on which partitions the feeds' keys hash to, so the counts
            # are checked in sum, not each.
            deadline = time.monotonic() + 90
            while not holds_partitions("sink-b") and time.monotonic() < deadline:
                time.sleep(0.2)
            assert holds_partitions("sink-b"), "the second sink was given no partition"
            send(PER_STEP)
            wait_for(database_url, 2 * PER_STEP)
            # Delivered again, as a producer's retry would: stored and counted once.
            send(PER_STEP)
            send(2 * PER_STEP)
        # The second sink has left: the first takes its partitions back from their commits.
        send(3 * PER_STEP)
        wait_for(database_url, 4 * PER_STEP)
        time.sleep(2.0)  # what a late or doubled write would add, had it happened
    with psycopg.connect(database_url) as conn:
        count, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT trade_id) FROM ticks"
        ).fetchone()
        counted = conn.execute("SELECT instrument, ticks FROM feed_status").fetchall()
        # Each instance's heartbeat carries the rows it stored new; its last, written as it stopped.
        instances = conn.execute(
            "SELECT instance, rows_out FROM service_status WHERE service = 'sink' ORDER BY instance"
        ).fetchall()
    assert count == distinct == 4 * PER_STEP
    assert sorted(counted) == sorted((f"SIM-{i}", 4 * PER_STEP // FEEDS) for i in range(FEEDS))
    assert [name for name, _ in instances] == ["sink-a", "sink-b"]
    assert sum(rows_out for _, rows_out in instances) == 4 * PER_STEP

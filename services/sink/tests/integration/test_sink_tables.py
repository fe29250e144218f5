"""The sink stores every record kind it consumes, once, and a row the database refuses does not
block its batch: it goes to the dead-letter topic with the database's error (and from there into
the rejects table), while the rest of the batch is written."""

import time

import psycopg
import pytest

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import ANOMALIES, BARS, DEAD_LETTER, SIGNALS, TICKS, tick_key
from tickwire_sink.app import bootstrap
from tickwire_sink.settings import SinkSettings
from tickwire_testing.kafka import decode_all, produce, read_topic
from tickwire_testing.loops import running
from tickwire_testing.ticks import incompressible_name, trade

pytestmark = pytest.mark.integration

T0 = 1_800_000_000_000_000


def count(database_url: str, table: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def wait_rows(database_url: str, want: dict[str, int], timeout: float = 60) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    got: dict[str, int] = {}
    while time.monotonic() < deadline:
        got = {table: count(database_url, table) for table in want}
        if got == want:
            time.sleep(1.5)  # anything extra would land by now
            return {table: count(database_url, table) for table in want}
        time.sleep(0.2)
    return got


def sink_settings(bootstrap_servers: str, database_url: str, topic_prefix: str) -> SinkSettings:
    """The sink on the test's topics, database and a consumer group of its own."""
    return SinkSettings(
        KAFKA_BOOTSTRAP_SERVERS=bootstrap_servers,
        DATABASE_URL=database_url,
        topic_prefix=topic_prefix,
        consumer_group=f"{topic_prefix}sink",
        batch_size=500,
    )


def test_every_kind_is_stored_once_and_a_poison_row_is_set_aside(
    stack, topic_prefix, database_url
) -> None:
    serde = AvroSerde()
    bootstrap_servers = stack.kafka_bootstrap_servers
    ticks = [trade("P-A", T0 + i, 10.0 + i, 1.0) for i in range(50)]
    poison = trade("P-A", T0 + 999, 11.0, 1.0, side="buy\x00sell")  # PostgreSQL text refuses NUL
    ticks.insert(25, poison)
    bar = {
        "provider": "simulator",
        "instrument": "P-A",
        "interval": "1s",
        "start_ts": T0,
        "open": 10.0,
        "high": 12.0,
        "low": 9.5,
        "close": 11.0,
        "volume": 3.0,
        "tick_count": 3,
        "source": "trade",
    }
    anomaly = {
        "provider": "simulator",
        "instrument": "P-A",
        "ts": T0 + 5,
        "rule": "zscore",
        "severity": "critical",
        "value": 5.2,
        "threshold": 4.0,
        "window_mean": 10.0,
        "window_stddev": 0.1,
        "window_count": 200,
        "detail": "spike",
    }
    signal = {
        "provider": "simulator",
        "instrument": "P-A",
        "ts": T0 + 1_000_000,
        "name": "sma_20",
        "value": 10.5,
        "parameters": {"interval": "1s", "window": "20"},
    }
    key = tick_key("simulator", "P-A")
    for _ in range(2):  # everything delivered twice
        produce(
            bootstrap_servers, topic_prefix + TICKS, [(key, serde.encode("tick", t)) for t in ticks]
        )
        produce(bootstrap_servers, topic_prefix + BARS, [(key, serde.encode("bar", bar))])
        produce(
            bootstrap_servers, topic_prefix + ANOMALIES, [(key, serde.encode("anomaly", anomaly))]
        )
        produce(bootstrap_servers, topic_prefix + SIGNALS, [(key, serde.encode("signal", signal))])

    settings = sink_settings(bootstrap_servers, database_url, topic_prefix)
    with running(lambda health, stop: bootstrap(settings, health, stop)):
        got = wait_rows(
            database_url, {"ticks": 50, "bars": 1, "anomalies": 1, "signals": 1, "rejects": 2}
        )
    # Two deliveries of the poison tick are two refused Kafka records: two rejects, by offset.
    assert got == {"ticks": 50, "bars": 1, "anomalies": 1, "signals": 1, "rejects": 2}

    dead = decode_all(
        serde, "dead_letter", read_topic(bootstrap_servers, topic_prefix + DEAD_LETTER, expect=2)
    )
    assert [d["reason"] for d in dead] == ["db_refused", "db_refused"]  # one per delivery
    assert "SQLSTATE 22021" in dead[0]["message"] and dead[0]["service"] == "sink"
    assert serde.decode("tick", dead[0]["payload"])["side"] == "buy\x00sell"
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "SELECT reason, source_topic, count(DISTINCT source_offset) FROM rejects "
            "GROUP BY reason, source_topic"
        ).fetchone()
        bar_row = conn.execute("SELECT high, tick_count, source FROM bars").fetchone()
        interval = conn.execute("SELECT interval, parameters->>'window' FROM signals").fetchone()
    assert stored == ("db_refused", topic_prefix + TICKS, 2)
    assert bar_row == (12.0, 3, "trade")
    assert interval == ("1s", "20")


def test_a_tick_too_long_to_index_is_set_aside_not_retried(
    stack, topic_prefix, database_url
) -> None:
    # The database refuses it with 54000 (program_limit_exceeded), an OperationalError to psycopg
    # like a lost connection: treated as one, the batch would be retried for ever and none stored.
    serde = AvroSerde()
    bootstrap_servers = stack.kafka_bootstrap_servers
    long_name = incompressible_name(10_000, 54)
    ticks = [trade("L-A", T0 + i, 10.0 + i, 1.0) for i in range(5)]
    ticks.insert(3, trade(long_name, T0 + 3, 10.0, 1.0))
    key = tick_key("simulator", "L-A")  # one partition, so one batch
    produce(
        bootstrap_servers, topic_prefix + TICKS, [(key, serde.encode("tick", t)) for t in ticks]
    )

    settings = sink_settings(bootstrap_servers, database_url, topic_prefix)
    with running(lambda health, stop: bootstrap(settings, health, stop)):
        got = wait_rows(database_url, {"ticks": 5, "rejects": 1})
    assert got == {"ticks": 5, "rejects": 1}

    dead = decode_all(
        serde, "dead_letter", read_topic(bootstrap_servers, topic_prefix + DEAD_LETTER, expect=1)
    )
    assert [d["reason"] for d in dead] == ["db_refused"]
    assert "SQLSTATE 54000" in dead[0]["message"] and dead[0]["service"] == "sink"
    assert serde.decode("tick", dead[0]["payload"])["instrument"] == long_name
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "SELECT reason, source_topic, source_offset, instrument FROM rejects"
        ).fetchall()
        instruments = conn.execute("SELECT DISTINCT instrument FROM ticks").fetchall()
    # The rejects table indexes the instrument too: its row leaves the name out, as normalize's do.
    assert stored == [("db_refused", topic_prefix + TICKS, 3, None)]
    assert instruments == [("L-A",)]

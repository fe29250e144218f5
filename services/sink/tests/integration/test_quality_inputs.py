"""What the quality report reads beyond the stored rows, through the real sink: dedup tallies
stored once per tally record however often it is delivered, and rejects by provider, instrument
and event time (NULL for a dead letter that names none, as those written before it existed)."""

import io
import json
import time
from datetime import UTC, date, datetime, timedelta

import fastavro
import psycopg
import pytest
from confluent_kafka import Consumer, TopicPartition

from tickwire_core.serde import MAGIC, AvroSerde, default_schema_dir, fingerprint
from tickwire_core.topics import BARS, DEAD_LETTER, DEDUP_TALLIES, tick_key
from tickwire_sink.app import bootstrap
from tickwire_sink.settings import SinkSettings
from tickwire_testing.kafka import produce
from tickwire_testing.loops import running

pytestmark = pytest.mark.integration

T0 = 1_700_000_000_000_000  # 2023-11-14T22:13:20Z
DAY = T0 // 86_400_000_000


def tally(instrument_counts: dict[str, int], day: int = DAY) -> dict:
    return {
        "instance": "normalize-0",
        "tallied_ts": T0,
        "entries": [
            {"provider": "deribit", "instrument": name, "day": day, "duplicates": n}
            for name, n in sorted(instrument_counts.items())
        ],
    }


def sink_settings(stack, topic_prefix: str, database_url: str, group: str) -> SinkSettings:
    return SinkSettings(
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers,
        DATABASE_URL=database_url,
        topic_prefix=topic_prefix,
        consumer_group=f"{topic_prefix}{group}",
        batch_size=100,
    )


def wait_rows(database_url: str, query: str, expect: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(database_url) as conn:
            if conn.execute(query).fetchone()[0] >= expect:
                time.sleep(1.0)  # anything more would arrive now, and be seen
                return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {expect} rows for {query}")


def committed(stack, group: str, topic: str) -> int:
    """The records of `topic` that `group` has committed (stored, for the sink)."""
    probe = Consumer({"bootstrap.servers": stack.kafka_bootstrap_servers, "group.id": group})
    try:
        partitions = probe.list_topics(topic, timeout=10).topics[topic].partitions
        offsets = probe.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
    finally:
        probe.close()
    return sum(max(0, tp.offset) for tp in offsets)


def tallied(database_url: str) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT instrument, day, sum(duplicates), count(*) FROM dedup_tallies "
            "GROUP BY instrument, day ORDER BY instrument, day"
        ).fetchall()


def test_a_redelivered_tally_counts_once(stack, topic_prefix, database_url) -> None:
    serde = AvroSerde()
    topic = topic_prefix + DEDUP_TALLIES
    first = serde.encode("dedup_tally", tally({"BTC-PERP": 3, "ETH-PERP": 1}))
    second = serde.encode("dedup_tally", tally({"BTC-PERP": 2}, day=DAY + 1))
    produce(
        stack.kafka_bootstrap_servers, topic, [(b"normalize-0", first), (b"normalize-0", second)]
    )
    query = "SELECT count(*) FROM dedup_tallies"
    settings = sink_settings(stack, topic_prefix, database_url, "sink")
    with running(lambda health, stop: bootstrap(settings, health, stop)):
        wait_rows(database_url, query, 3)
    day = date(1970, 1, 1) + timedelta(days=DAY)
    expected = [
        ("BTC-PERP", day, 3, 1),
        ("BTC-PERP", day + timedelta(days=1), 2, 1),
        ("ETH-PERP", day, 1, 1),
    ]
    assert tallied(database_url) == expected
    # A sink of another group reads the same records again, at the same positions.
    again = sink_settings(stack, topic_prefix, database_url, "sink-again")
    with running(lambda health, stop: bootstrap(again, health, stop)):
        deadline = time.monotonic() + 60
        while committed(stack, again.consumer_group, topic) < 2:
            assert time.monotonic() < deadline, "the second sink did not read the tallies"
            time.sleep(0.2)
    assert tallied(database_url) == expected
    with psycopg.connect(database_url) as conn:
        positions = conn.execute(
            "SELECT DISTINCT source_topic, source_offset FROM dedup_tallies ORDER BY 2"
        ).fetchall()
    assert [p[0] for p in positions] == [topic, topic] and len({p[1] for p in positions}) == 2


def old_dead_letter(letter: dict) -> bytes:
    """A dead letter as written before it named its provider, instrument and time."""
    schema = json.loads((default_schema_dir() / "history" / "dead_letter" / "1.avsc").read_text())
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(schema), letter)
    return MAGIC + fingerprint(schema) + body.getvalue()


def test_rejects_are_stored_by_provider_instrument_and_time(
    stack, topic_prefix, database_url
) -> None:
    serde = AvroSerde()
    letter = {
        "reason": "crossed_market",
        "message": "bid 2 > ask 1",
        "service": "normalize",
        "source_topic": "raw",
        "source_partition": 0,
        "source_offset": 7,
        "source_key": b"deribit|BTC-PERPETUAL",
        "payload": b"{}",
        "rejected_ts": T0 + 9,
    }
    attributed = {**letter, "provider": "deribit", "instrument": "BTC-USD-PERP", "event_ts": T0}
    unread = {**letter, "reason": "undecodable", "source_offset": 8}
    earlier = {**letter, "reason": "non_finite", "source_offset": 9}
    produce(
        stack.kafka_bootstrap_servers,
        topic_prefix + DEAD_LETTER,
        [
            (None, serde.encode("dead_letter", attributed)),
            (None, serde.encode("dead_letter", unread)),
            (None, old_dead_letter(earlier)),
        ],
    )
    refused_bar = {  # a bar of no ticks: the database's CHECK refuses it, the sink dead-letters it
        "provider": "simulator",
        "instrument": "SIM-A",
        "interval": "1m",
        "start_ts": T0,
        "open": 1.0,
        "high": 1.0,
        "low": 1.0,
        "close": 1.0,
        "volume": 0.0,
        "tick_count": 0,
        "source": "trade",
    }
    produce(
        stack.kafka_bootstrap_servers,
        topic_prefix + BARS,
        [(tick_key("simulator", "SIM-A"), serde.encode("bar", refused_bar))],
    )
    settings = sink_settings(stack, topic_prefix, database_url, "sink")
    with running(lambda health, stop: bootstrap(settings, health, stop)):
        wait_rows(database_url, "SELECT count(*) FROM rejects", 4)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT service, reason, provider, instrument, event_ts FROM rejects "
            "ORDER BY service, reason"
        ).fetchall()
    at = datetime.fromtimestamp(T0 / 1e6, UTC)
    assert rows == [
        ("normalize", "crossed_market", "deribit", "BTC-USD-PERP", at),
        ("normalize", "non_finite", None, None, None),
        ("normalize", "undecodable", None, None, None),
        ("sink", "db_refused", "simulator", "SIM-A", at),
    ]

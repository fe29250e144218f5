"""The sink against the real broker and database: redelivered records become one row each,
offsets are committed only after the rows are in, an undecodable record is dead-lettered."""

import time

import psycopg
import pytest
from confluent_kafka import Consumer, TopicPartition

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import DEAD_LETTER, TICKS, tick_key
from tickwire_sink.app import bootstrap
from tickwire_sink.settings import SinkSettings
from tickwire_testing.kafka import decode_all, produce, read_topic
from tickwire_testing.loops import running

pytestmark = pytest.mark.integration

T0 = 1_700_000_000_000_000


def test_sink_writes_each_tick_once_and_commits_after(stack, topic_prefix, database_url) -> None:
    serde = AvroSerde()
    ticks = [
        {
            "provider": "simulator",
            "instrument": f"SIM-{i % 3}",
            "kind": "trade",
            "exchange_ts": T0 + i,
            "received_ts": T0 + i + 9,
            "last_traded_price": 10.0 + i,
            "last_traded_volume": 1.0,
            "trade_id": f"T{i}",
            "side": "buy",
        }
        for i in range(1000)
    ]
    records = [(tick_key("simulator", t["instrument"]), serde.encode("tick", t)) for t in ticks]
    topic = topic_prefix + TICKS
    produce(stack.kafka_bootstrap_servers, topic, records[:600])
    produce(stack.kafka_bootstrap_servers, topic, records[400:])  # 200 redelivered
    produce(stack.kafka_bootstrap_servers, topic, [(b"simulator|SIM-0", b"junk")])

    group = f"{topic_prefix}sink"
    settings = SinkSettings(
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers,
        DATABASE_URL=database_url,
        topic_prefix=topic_prefix,
        consumer_group=group,
        batch_size=250,
    )
    with running(lambda health, stop: bootstrap(settings, health, stop)) as health:
        deadline = time.monotonic() + 60
        count = 0
        while time.monotonic() < deadline and count < 1000:
            with psycopg.connect(database_url) as conn:
                count = conn.execute("SELECT count(*) FROM ticks").fetchone()[0]
            time.sleep(0.2)
        dead = decode_all(
            serde,
            "dead_letter",
            read_topic(stack.kafka_bootstrap_servers, topic_prefix + DEAD_LETTER, expect=1),
        )
        time.sleep(1.0)
        assert health.ready()[0], health.ready()[1]
    with psycopg.connect(database_url) as conn:
        count, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT trade_id) FROM ticks"
        ).fetchone()
    assert count == distinct == 1000
    assert [(d["reason"], d["service"]) for d in dead] == [("undecodable", "sink")]
    # Every consumed record's offset is committed: 1201 records across the partitions.
    probe = Consumer({"bootstrap.servers": stack.kafka_bootstrap_servers, "group.id": group})
    try:
        meta = probe.list_topics(topic, timeout=10).topics[topic]
        committed = probe.committed([TopicPartition(topic, p) for p in meta.partitions], timeout=10)
        ends = [probe.get_watermark_offsets(tp, timeout=10)[1] for tp in committed]
        # Partitions that got records have their end committed; the others never got a commit.
        assert [tp.offset if end else 0 for tp, end in zip(committed, ends, strict=True)] == ends
        assert sum(ends) == 1201
    finally:
        probe.close()

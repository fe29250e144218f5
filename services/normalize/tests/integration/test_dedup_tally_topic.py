"""Tallies of dropped copies on the real broker: a batch with copies publishes exactly one tally,
committed with its ticks; a batch without copies publishes none; a tally in an aborted
transaction never reaches a reader of committed data, and the batch's retry tallies once."""

import threading
import uuid

import pytest
from confluent_kafka import Consumer

from tickwire_core.batch import Consumed
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import DEDUP_TALLIES, RAW_TICKS, TICKS, tick_key
from tickwire_ingest.domain.raw import Envelope
from tickwire_ingest.domain.simulator import SimConfig, Simulator, parse_instruments
from tickwire_normalize.adapters.kafka import publisher_and_committer
from tickwire_normalize.app import bootstrap
from tickwire_normalize.domain.dedup import DedupWindow
from tickwire_normalize.domain.tallies import US_PER_DAY
from tickwire_normalize.domain.validate import Limits
from tickwire_normalize.handler import NormalizeHandler
from tickwire_normalize.settings import NormalizeSettings
from tickwire_testing.kafka import decode_all, produce, read_topic
from tickwire_testing.loops import running

pytestmark = pytest.mark.integration

BASE_TS = 1_700_000_000_000_000


def raw_records(count: int, instance: str) -> list[dict]:
    """The same `count` venue updates of one instrument, as ingest instance `instance` wraps
    them (the replica 300 us later)."""
    sim = Simulator(SimConfig(parse_instruments("SIM-T:100"), seed=4))
    envelope = Envelope("simulator", instance)
    delay = 300 if instance == "replica" else 0
    out = []
    for i in range(count):
        msg = sim.next_message(BASE_TS + i * 1000)
        out.append(envelope.wrap(msg.feed, msg.instrument, msg.payload, BASE_TS + i * 1000 + delay))
    return out


def encoded(serde: AvroSerde, raws: list[dict]) -> list[tuple[bytes, bytes]]:
    return [(tick_key("simulator", "SIM-T"), serde.encode("raw_tick", r)) for r in raws]


def settings_for(stack, topic_prefix: str, **extra) -> NormalizeSettings:
    return NormalizeSettings(
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers,
        topic_prefix=topic_prefix,
        consumer_group=f"{topic_prefix}norm",
        instance_id="tally-test",
        max_past_s=10 * 365 * 86_400.0,
        dedup_window_s=3600,
        **extra,
    )


def read_all(servers: str, topic: str, isolation: str, expect: int) -> list:
    consumer = Consumer(
        {
            "bootstrap.servers": servers,
            "group.id": f"reader-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "isolation.level": isolation,
        }
    )
    consumer.subscribe([topic])
    found: list = []
    try:
        for _ in range(50):  # up to 10 s for `expect`, then 1 s more for any extra
            found += [m for m in consumer.consume(100, 0.2) if m.error() is None]
            if len(found) >= expect:
                found += [m for m in consumer.consume(100, 1.0) if m.error() is None]
                break
    finally:
        consumer.close()
    return found


def test_one_tally_per_batch_with_copies_and_none_without(stack, topic_prefix) -> None:
    serde = AvroSerde()
    servers = stack.kafka_bootstrap_servers
    primary, replica = raw_records(40, "primary"), raw_records(40, "replica")
    produce(servers, topic_prefix + RAW_TICKS, encoded(serde, primary[:30]))
    # One instrument is one partition, and a long batch timeout lets a batch take everything
    # already on the broker: each phase below is one batch.
    settings = settings_for(stack, topic_prefix, batch_size=5000, batch_timeout_ms=2000)
    with running(lambda health, stop: bootstrap(settings, health, stop)):
        ticks = read_topic(servers, topic_prefix + TICKS, expect=30)
        assert len(ticks) == 30
        assert read_all(servers, topic_prefix + DEDUP_TALLIES, "read_committed", 0) == []
        # Copies of 25 updates already published, and 10 updates new to normalize.
        produce(servers, topic_prefix + RAW_TICKS, encoded(serde, replica[5:30] + primary[30:]))
        tallies = read_all(servers, topic_prefix + DEDUP_TALLIES, "read_committed", 1)
        ticks = read_topic(servers, topic_prefix + TICKS, expect=40)
    assert len(ticks) == 40
    [message] = tallies
    assert message.key() == b"tally-test"
    tally = serde.decode("dedup_tally", message.value())
    assert tally["instance"] == "tally-test"
    assert tally["entries"] == [
        {
            "provider": "simulator",
            "instrument": "SIM-T",
            "day": BASE_TS // US_PER_DAY,
            "duplicates": 25,
        }
    ]


def test_an_aborted_batch_tally_is_never_read_and_its_retry_tallies_once(
    stack, topic_prefix
) -> None:
    """The run loop's failure path, step by step on the real transactional producer: the batch's
    output goes into a transaction that is aborted (as when its commit fails), then the batch is
    handled again and committed."""
    serde = AvroSerde()
    servers = stack.kafka_bootstrap_servers
    settings = settings_for(stack, topic_prefix)
    publisher, committer = publisher_and_committer(settings, threading.Event())
    handler = NormalizeHandler(
        settings.topic(TICKS),
        Limits(max_past_s=settings.max_past_s),
        DedupWindow(3_600_000_000, 10_000),
        tally_topic=settings.topic(DEDUP_TALLIES),
        instance="tally-test",
    )
    raws = raw_records(10, "primary") + raw_records(10, "replica")
    batch = [
        Consumed(settings.topic(RAW_TICKS), 0, offset, b"k", b"", raw)
        for offset, raw in enumerate(raws)
    ]
    consumer = Consumer({"bootstrap.servers": servers, "group.id": settings.consumer_group})
    committer.start()
    try:
        for attempt in ("aborted", "committed"):
            committer.begin()
            for out in handler(batch).outputs:
                publisher.send(out.topic, out.key, out.schema, out.value)
            if attempt == "aborted":
                publisher.flush()  # on the broker, inside the open transaction
                committer.abort()
            else:
                committer.commit(consumer, [])
    finally:
        consumer.close()
    topic = settings.topic(DEDUP_TALLIES)
    # Both attempts reached the broker; a reader of committed data sees the second alone.
    assert len(read_all(servers, topic, "read_uncommitted", 2)) == 2
    committed = read_all(servers, topic, "read_committed", 1)
    assert [e["duplicates"] for e in decode_all(serde, "dedup_tally", committed)[0]["entries"]] == [
        10
    ]
    assert len(committed) == 1
    assert len(read_all(servers, settings.topic(TICKS), "read_committed", 10)) == 10

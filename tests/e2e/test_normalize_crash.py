"""kill -9 of normalize mid-stream, then a restart: the normalized topic, read as consumers do
(read committed), holds every tick exactly once."""

import uuid

import pytest
from confluent_kafka import Consumer

from tickwire_core.clock import now_us
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import RAW_TICKS, TICKS, tick_key
from tickwire_ingest.domain.raw import Envelope
from tickwire_ingest.domain.simulator import SimConfig, Simulator, parse_instruments
from tickwire_testing.kafka import decode_all, produce, read_topic
from tickwire_testing.processes import Service, base_env, wait_for

pytestmark = pytest.mark.e2e

N = 40_000


class CommittedCounter:
    """Counts what a read-committed consumer of the topic has seen so far."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"count-{uuid.uuid4().hex}",
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
            }
        )
        self.consumer.subscribe([topic])
        self.seen = 0

    def count(self) -> int:
        self.seen += sum(1 for m in self.consumer.consume(5000, 0.2) if m.error() is None)
        return self.seen


def test_a_killed_normalize_neither_loses_nor_duplicates(
    stack, topic_prefix, database_url, tmp_path
) -> None:
    serde = AvroSerde()
    sim = Simulator(SimConfig(parse_instruments("K-A:100,K-B:50,K-C:10"), seed=9))
    envelope = Envelope("simulator", "primary")
    start = now_us() - 10_000_000
    records = []
    for i in range(N):
        msg = sim.next_message(start + i)
        raw = envelope.wrap(msg.feed, msg.instrument, msg.payload, start + i + 100)
        records.append((tick_key("simulator", msg.instrument), serde.encode("raw_tick", raw)))
    bootstrap = stack.kafka_bootstrap_servers
    produce(bootstrap, topic_prefix + RAW_TICKS, records)

    env = {
        **base_env(bootstrap, database_url, topic_prefix),
        "TICKWIRE_INSTANCE_ID": "normalize-0",
        "TICKWIRE_CONSUMER_GROUP": f"{topic_prefix}normalize",
        # Large batches: most of the time goes to producing a batch before its commit, where a
        # kill duplicates output unless the batch is one transaction (this test fails with
        # TICKWIRE_EXACTLY_ONCE=false).
        "TICKWIRE_BATCH_SIZE": "5000",
    }
    counter = CommittedCounter(bootstrap, topic_prefix + TICKS)
    first = Service("tickwire_normalize", "normalize-first", tmp_path, env).start()
    try:
        wait_for(lambda: counter.count() >= N // 10, 60, "some output", interval=0.0)
        first.kill()
        assert counter.count() < N, "normalize must be killed mid-stream"
    finally:
        first.stop()
    second = Service("tickwire_normalize", "normalize-second", tmp_path, env).start()
    try:
        ticks = decode_all(serde, "tick", read_topic(bootstrap, topic_prefix + TICKS, expect=N))
    finally:
        code = second.stop()
        counter.consumer.close()
    identities = [(t["instrument"], t["venue_seq"]) for t in ticks]
    assert len(identities) == N and len(set(identities)) == N
    assert code == 0

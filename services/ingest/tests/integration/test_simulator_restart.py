"""A simulator restarted from its seed against the real broker continues its venue where the raw
topic shows it, as a venue does across a reconnect: no sequence number of an instrument goes back,
none is sent for two different updates, and the market is the one an uninterrupted run sends."""

import json
import time

import pytest
from confluent_kafka import Producer

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import RAW_TICKS
from tickwire_ingest.app import bootstrap
from tickwire_ingest.domain.raw import Envelope
from tickwire_ingest.domain.simulator import SimConfig, Simulator, parse_instruments
from tickwire_ingest.settings import IngestSettings
from tickwire_testing.kafka import read_topic
from tickwire_testing.loops import running

pytestmark = pytest.mark.integration

INSTRUMENTS = "SIM-A:100,SIM-B:3500:0.05,SIM-C:20:0.001"
SESSION = 400  # updates each session publishes


def run_session(stack, topic_prefix: str, expect: int) -> None:
    settings = IngestSettings(
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers,
        topic_prefix=topic_prefix,
        sim_instruments=INSTRUMENTS,
        sim_seed=11,
        sim_rate=0,
        sim_count=SESSION,
        sim_faults=False,
        ingest_instance="primary",
    )
    with running(lambda health, stop: bootstrap(settings, health, stop)):
        read_topic(stack.kafka_bootstrap_servers, topic_prefix + RAW_TICKS, expect=expect)
        time.sleep(1.0)


def publish_hostile(bootstrap_servers: str, topic: str) -> int:
    """Records of the venue's own provider and instruments that are not its messages: the raw
    topic takes whatever ingest is given, and a restart reads them back."""
    serde, envelope = AvroSerde(), Envelope("simulator", "hostile")
    payloads = [b"[" * 100_000, b"\xff\xfe not json", b'{"seq": "7"}', b"[1, 2]", b'{"seq": 1e300}']
    producer = Producer({"bootstrap.servers": bootstrap_servers})
    for payload in payloads:
        record = envelope.wrap("trades", "SIM-A", payload, int(time.time() * 1e6))
        producer.produce(topic, key=b"SIM-A", value=serde.encode("raw_tick", record))
    producer.produce(topic, key=b"SIM-A", value=b"not avro at all")
    assert producer.flush(30) == 0
    return len(payloads) + 1


@pytest.mark.parametrize("hostile", [False, True], ids=["clean topic", "hostile records"])
def test_a_restarted_simulator_continues_its_sequences(stack, topic_prefix, hostile) -> None:
    run_session(stack, topic_prefix, expect=SESSION)
    extra = 0
    if hostile:  # they must neither stop the restart nor move its numbering
        extra = publish_hostile(stack.kafka_bootstrap_servers, topic_prefix + RAW_TICKS)
    run_session(stack, topic_prefix, expect=2 * SESSION + extra)
    serde = AvroSerde()
    records = read_topic(
        stack.kafka_bootstrap_servers, topic_prefix + RAW_TICKS, expect=2 * SESSION + extra
    )
    sent: dict[str, list[dict]] = {}
    for message in sorted(records, key=lambda m: (m.partition(), m.offset())):
        if message.value() == b"not avro at all":
            continue
        raw = serde.decode("raw_tick", message.value())
        if raw["ingest_instance"] == "hostile":
            continue
        body = json.loads(raw["payload"])
        del body["ts"]
        sent.setdefault(body["instrument"], []).append(body)
    uninterrupted = Simulator(SimConfig(parse_instruments(INSTRUMENTS), seed=11))
    expected: dict[str, list[dict]] = {}
    for _ in range(2 * SESSION):
        body = json.loads(uninterrupted.next_message(0).payload)
        del body["ts"]
        expected.setdefault(body["instrument"], []).append(body)
    assert sum(map(len, sent.values())) == 2 * SESSION
    for instrument, bodies in sent.items():
        seqs = [b["seq"] for b in bodies]
        assert seqs == list(range(1, len(seqs) + 1)), f"{instrument}: {seqs}"
    assert sent == expected

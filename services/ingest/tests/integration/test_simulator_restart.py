"""A simulator restarted from its seed against the real broker continues its venue where the raw
topic shows it, as a venue does across a reconnect: no sequence number of an instrument goes back,
none is sent for two different updates, and the market is the one an uninterrupted run sends."""

import json
import time

import pytest

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import RAW_TICKS
from tickwire_ingest.app import bootstrap
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


def test_a_restarted_simulator_continues_its_sequences(stack, topic_prefix) -> None:
    run_session(stack, topic_prefix, expect=SESSION)
    run_session(stack, topic_prefix, expect=2 * SESSION)
    serde = AvroSerde()
    records = read_topic(
        stack.kafka_bootstrap_servers, topic_prefix + RAW_TICKS, expect=2 * SESSION
    )
    sent: dict[str, list[dict]] = {}
    for message in sorted(records, key=lambda m: (m.partition(), m.offset())):
        body = json.loads(serde.decode("raw_tick", message.value())["payload"])
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

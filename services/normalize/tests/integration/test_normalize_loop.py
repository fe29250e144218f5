"""normalize against the real broker: valid raw ticks become ticks in order, every bad record
becomes exactly one dead letter with its reason and origin, and nothing stalls."""

import json

import pytest

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import DEAD_LETTER, RAW_TICKS, TICKS, tick_key
from tickwire_ingest.domain.raw import Envelope
from tickwire_ingest.domain.simulator import SimConfig, Simulator, parse_instruments
from tickwire_normalize.app import bootstrap
from tickwire_normalize.domain.normalize import normalize
from tickwire_normalize.settings import NormalizeSettings
from tickwire_testing.kafka import decode_all, produce, read_topic
from tickwire_testing.loops import running

pytestmark = pytest.mark.integration


def test_normalize_maps_valid_and_dead_letters_bad_records(stack, topic_prefix) -> None:
    serde = AvroSerde()
    sim = Simulator(SimConfig(parse_instruments("SIM-A:100,SIM-B:50"), seed=3))
    env = Envelope("simulator", "primary")
    base_ts = 1_700_000_000_000_000
    good = []
    for i in range(300):
        msg = sim.next_message(base_ts + i)
        good.append(env.wrap(msg.feed, msg.instrument, msg.payload, base_ts + i + 100))
    crossed = env.wrap(
        "quotes",
        "SIM-A",
        json.dumps(
            {
                "type": "quote",
                "instrument": "SIM-A",
                "ts": base_ts,
                "seq": 999,
                "bid": "101",
                "bid_size": "1",
                "ask": "100",
                "ask_size": "1",
            }
        ).encode(),
        base_ts + 5,
    )
    records = [(tick_key("simulator", r["instrument"]), serde.encode("raw_tick", r)) for r in good]
    records.insert(10, (b"simulator|SIM-A", b"\x00garbage that is not avro"))
    records.insert(20, (b"simulator|SIM-A", serde.encode("raw_tick", crossed)))
    raw_topic = topic_prefix + RAW_TICKS
    produce(stack.kafka_bootstrap_servers, raw_topic, records)

    settings = NormalizeSettings(
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers,
        topic_prefix=topic_prefix,
        consumer_group=f"{topic_prefix}norm",
        batch_size=64,
    )
    with running(lambda health, stop: bootstrap(settings, health, stop)) as health:
        ticks = decode_all(
            serde,
            "tick",
            read_topic(stack.kafka_bootstrap_servers, topic_prefix + TICKS, expect=len(good)),
        )
        dead = decode_all(
            serde,
            "dead_letter",
            read_topic(stack.kafka_bootstrap_servers, topic_prefix + DEAD_LETTER, expect=2),
        )
        assert health.ready()[0], health.ready()[1]

    expected = [t for r in good for t in normalize(r).ticks]
    key = lambda t: (t["instrument"], t["venue_seq"])  # noqa: E731
    assert sorted(ticks, key=key) == sorted(
        [{**serde.decode("tick", serde.encode("tick", t))} for t in expected], key=key
    )
    # Per instrument, Kafka kept the feed's order.
    for instrument in ("SIM-A", "SIM-B"):
        seqs = [t["venue_seq"] for t in ticks if t["instrument"] == instrument]
        assert seqs == sorted(seqs)
    assert sorted(d["reason"] for d in dead) == ["crossed_market", "undecodable"]
    # Each dead letter points at its original record, and carries it unchanged.
    originals = {
        (m.partition(), m.offset()): m.value()
        for m in read_topic(stack.kafka_bootstrap_servers, raw_topic, expect=len(records))
    }
    for letter in dead:
        assert letter["source_topic"] == raw_topic
        assert originals[(letter["source_partition"], letter["source_offset"])] == letter["payload"]
        assert letter["service"] == "normalize" and letter["source_key"] == b"simulator|SIM-A"
    by_reason = {d["reason"]: d for d in dead}
    assert by_reason["undecodable"]["payload"] == b"\x00garbage that is not avro"
    assert serde.decode("raw_tick", by_reason["crossed_market"]["payload"]) == crossed
    assert "bid 101.0 > ask 100.0" in by_reason["crossed_market"]["message"]

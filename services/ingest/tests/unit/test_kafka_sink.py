"""The Kafka raw sink under backpressure: what finds no room is counted and published as a gap
event with the exact stretch lost, and the ingest sequence on the topic stays gapless."""

import json

from tickwire_core.publisher import Publisher
from tickwire_core.serde import AvroSerde
from tickwire_ingest.adapters.kafka_sink import KafkaRawSink
from tickwire_ingest.domain.events import DISCONNECT, GAP_CONTENT_TYPE, Gap, VenueMessage
from tickwire_ingest.domain.raw import Envelope
from tickwire_testing.fakes import FakeProducer


def message(ts: int, instrument: str = "BTCUSDT") -> VenueMessage:
    return VenueMessage("bookTicker", instrument, b'{"u":1}', ts)


def records(producer: FakeProducer) -> list[dict]:
    serde = AvroSerde()
    return [serde.decode("raw_tick", value) for _topic, _key, value in producer.sent]


def test_messages_without_room_become_one_backpressure_gap() -> None:
    producer = FakeProducer(queue_limit=3)
    sink = KafkaRawSink(
        Publisher(producer, AvroSerde()), "raw", Envelope("binance", "primary"), max_block_s=0.0
    )
    for ts in range(1000, 1005):
        sink.publish(message(ts))
    assert len(producer.sent) == 3  # two found the queue full
    producer.poll()  # the broker caught up
    sink.publish(message(2000))

    out = records(producer)
    assert [r["content_type"] for r in out] == ["application/json"] * 3 + [
        GAP_CONTENT_TYPE,
        "application/json",
    ]
    gap = json.loads(out[3]["payload"])
    assert (gap["reason"], gap["lost"]) == ("backpressure", 2)
    assert (gap["start_ts"], gap["end_ts"], gap["instrument"]) == (1003, 1004, "BTCUSDT")
    assert [r["ingest_seq"] for r in out] == [1, 2, 3, 4, 5]
    assert out[3]["instrument"] == "BTCUSDT" and producer.sent[3][1] == b"binance|BTCUSDT"


def test_gap_events_wait_for_room_and_are_never_dropped() -> None:
    producer = FakeProducer(queue_limit=1)
    sink = KafkaRawSink(
        Publisher(producer, AvroSerde()), "raw", Envelope("deribit", "replica"), max_block_s=0.0
    )
    sink.publish(message(10, "BTC-PERPETUAL"))
    sink.gap(Gap("BTC-PERPETUAL", DISCONNECT, 10, 50))  # no room: waits
    assert len(producer.sent) == 1
    sink.flush()  # flush waits for room as long as it takes
    out = records(producer)
    assert [r["feed"] for r in out] == ["bookTicker", "gap"]
    assert out[1]["ingest_instance"] == "replica" and out[1]["provider"] == "deribit"
    assert json.loads(out[1]["payload"])["end_ts"] == 50


def test_replayed_messages_keep_their_own_provider() -> None:
    producer = FakeProducer()
    sink = KafkaRawSink(
        Publisher(producer, AvroSerde()), "raw", Envelope("replay", "primary"), max_block_s=1.0
    )
    sink.publish(VenueMessage("trade", "BTC/USD", b"{}", 5, provider="kraken"))
    (record,) = records(producer)
    assert record["provider"] == "kraken"
    assert producer.sent[0][1] == b"kraken|BTC/USD"

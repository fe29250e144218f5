import pytest

from tickwire_core.errors import DeliveryError
from tickwire_core.publisher import Publisher
from tickwire_core.serde import AvroSerde
from tickwire_core.testing.fakes import FakeProducer

SIGNAL = {
    "provider": "p",
    "instrument": "i",
    "ts": 1,
    "name": "mid",
    "value": 2.0,
    "parameters": {},
}


def test_sent_records_are_encoded_and_flush_confirms_them() -> None:
    producer = FakeProducer()
    publisher = Publisher(producer, AvroSerde())
    publisher.send("signals", b"p|i", "signal", SIGNAL)
    publisher.flush()
    [(topic, key, value)] = producer.sent
    assert (topic, key) == ("signals", b"p|i")
    assert publisher.serde.decode("signal", value)["value"] == 2.0


def test_a_failed_delivery_makes_flush_raise() -> None:
    producer = FakeProducer(fail_with="broker said no")
    publisher = Publisher(producer, AvroSerde())
    publisher.send("signals", None, "signal", SIGNAL)
    with pytest.raises(DeliveryError, match="broker said no"):
        publisher.flush()


def test_a_full_queue_waits_for_deliveries_instead_of_dropping() -> None:
    producer = FakeProducer(queue_limit=2)
    publisher = Publisher(producer, AvroSerde())
    for _ in range(5):
        publisher.send("signals", None, "signal", SIGNAL)
    publisher.flush()
    assert len(producer.sent) == 5

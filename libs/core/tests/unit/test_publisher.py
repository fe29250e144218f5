import threading
import time

import pytest

from tickwire_core.errors import DeliveryError
from tickwire_core.publisher import Publisher
from tickwire_core.serde import AvroSerde
from tickwire_testing.fakes import FakeProducer

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


class StuckProducer(FakeProducer):
    """Never gets an acknowledgement: the brokers are gone."""

    def flush(self, timeout: float = 0) -> int:
        time.sleep(timeout)
        return len(self._callbacks)


def test_flush_gives_up_and_raises_when_nothing_is_acknowledged() -> None:
    publisher = Publisher(StuckProducer(), AvroSerde())
    publisher.send("signals", None, "signal", SIGNAL)
    with pytest.raises(DeliveryError, match="1 records not acknowledged"):
        publisher.flush(timeout=0.3)


def test_a_stop_request_cuts_the_wait_short() -> None:
    publisher = Publisher(StuckProducer(), AvroSerde())
    publisher.send("signals", None, "signal", SIGNAL)
    stop = threading.Event()
    stop.set()
    started = time.monotonic()
    with pytest.raises(DeliveryError):
        publisher.flush(timeout=60, stop=stop)
    assert time.monotonic() - started < 7  # the 5 s grace, not the 60 s timeout


def test_on_delivered_hears_where_each_acknowledged_record_landed() -> None:
    producer = FakeProducer()
    publisher = Publisher(producer, AvroSerde())
    landed: list[tuple[int, int]] = []
    for _ in range(3):
        publisher.send_bytes("raw", None, b"x", on_delivered=lambda p, o: landed.append((p, o)))
    publisher.flush()
    assert landed == [(0, 0), (0, 1), (0, 2)]


def test_on_delivered_is_not_called_for_a_failed_delivery() -> None:
    producer = FakeProducer(fail_with="broker said no")
    publisher = Publisher(producer, AvroSerde())
    landed: list[tuple[int, int]] = []
    publisher.send_bytes("raw", None, b"x", on_delivered=lambda p, o: landed.append((p, o)))
    with pytest.raises(DeliveryError):
        publisher.flush()
    assert landed == []

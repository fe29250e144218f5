"""The transactional committer's start: a retriable failure of init_transactions (the broker's
transaction coordinator still loading) is asked again; a fatal one, or one while stopping, not."""

import threading

import pytest
from confluent_kafka import KafkaError, KafkaException

from tickwire_core.commit import TransactionalCommitter
from tickwire_core.publisher import Publisher
from tickwire_core.serde import AvroSerde
from tickwire_core.waiting import StoppedWhileWaiting
from tickwire_testing.fakes import FakeProducer


class SlowCoordinator(FakeProducer):
    """init_transactions fails with `errors` in turn, then succeeds."""

    def __init__(self, errors: list[KafkaError]) -> None:
        super().__init__()
        self.errors = errors
        self.calls = 0

    def init_transactions(self, timeout: float) -> None:
        self.calls += 1
        if self.errors:
            raise KafkaException(self.errors.pop(0))


def timed_out() -> KafkaError:
    return KafkaError(KafkaError._TIMED_OUT, "coordinator load in progress", retriable=True)


def test_a_retriable_failure_is_asked_again_until_it_succeeds() -> None:
    producer = SlowCoordinator([timed_out(), timed_out()])
    TransactionalCommitter(Publisher(producer, AvroSerde())).start()
    assert producer.calls == 3


def test_a_fatal_failure_stops_the_start() -> None:
    fenced = KafkaError(KafkaError._FENCED, "fenced", fatal=True)
    producer = SlowCoordinator([fenced])
    with pytest.raises(KafkaException, match="fenced"):
        TransactionalCommitter(Publisher(producer, AvroSerde())).start()
    assert producer.calls == 1


def test_a_stopping_service_does_not_ask_again() -> None:
    stop = threading.Event()
    stop.set()
    producer = SlowCoordinator([timed_out(), timed_out()])
    # A clean stop (exit 0) of a service that never started, not a failure.
    with pytest.raises(StoppedWhileWaiting, match="transaction coordinator"):
        TransactionalCommitter(Publisher(producer, AvroSerde()), stop).start()
    assert producer.calls == 1

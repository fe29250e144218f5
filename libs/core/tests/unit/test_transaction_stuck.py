"""A transactional call that never returns (librdkafka's send_offsets_to_transaction can wait for
ever while the group coordinator moves, whatever its timeout): the committer gives the producer
up after its timeout and a grace, and every later call says so instead of using it again."""

import threading
import time
from typing import Any

import pytest

from tickwire_core.commit import TransactionalCommitter
from tickwire_core.errors import ProducerStuck
from tickwire_core.publisher import Publisher
from tickwire_core.serde import AvroSerde
from tickwire_testing.fakes import FakeProducer


class LostCoordinator(FakeProducer):
    """send_offsets_to_transaction blocks until released, as the real one did."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.aborts = 0

    def begin_transaction(self) -> None:
        pass

    def send_offsets_to_transaction(self, *_args: Any) -> None:
        self.release.wait()

    def commit_transaction(self, *_args: Any) -> None:
        pass

    def abort_transaction(self, *_args: Any) -> None:
        self.aborts += 1


class Consumer:
    def consumer_group_metadata(self) -> object:
        return object()


def test_a_call_that_never_returns_gives_the_producer_up() -> None:
    producer = LostCoordinator()
    committer = TransactionalCommitter(Publisher(producer, AvroSerde()), timeout_s=0.2, grace_s=0.3)
    committer.begin()
    began = time.monotonic()
    try:
        with pytest.raises(ProducerStuck, match="send_offsets_to_transaction has not returned"):
            committer.commit(Consumer(), [object()])  # type: ignore[arg-type, list-item]
        assert time.monotonic() - began < 5.0  # the timeout and the grace, not for ever
        # The run loop aborts a failed batch: here that is the same failure, and nothing is
        # asked of the producer while the stuck call holds it.
        with pytest.raises(ProducerStuck):
            committer.abort()
        assert producer.aborts == 0
        with pytest.raises(ProducerStuck):
            committer.commit(Consumer(), [])  # type: ignore[arg-type]
    finally:
        producer.release.set()


def test_a_call_that_returns_in_time_commits_as_before() -> None:
    producer = LostCoordinator()
    producer.release.set()
    committer = TransactionalCommitter(Publisher(producer, AvroSerde()), timeout_s=0.2, grace_s=0.3)
    committer.begin()
    committer.commit(Consumer(), [object()])  # type: ignore[arg-type, list-item]
    committer.begin()
    committer.abort()
    assert producer.aborts == 1

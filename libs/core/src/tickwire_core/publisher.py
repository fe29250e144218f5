"""Producing records: Avro-encode, hand to the idempotent producer, and make delivery failures
loud. `flush()` either returns with everything acknowledged by the brokers or raises."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from prometheus_client import Counter

from tickwire_core.errors import DeliveryError
from tickwire_core.serde import AvroSerde

logger = logging.getLogger(__name__)

_FLUSH_GRACE_ON_STOP_S = 5.0

PRODUCED = Counter("tickwire_records_produced_total", "Records acknowledged by Kafka", ["topic"])


class ProducerLike(Protocol):
    """The part of confluent_kafka.Producer the pipeline uses (FakeProducer in unit tests)."""

    def produce(
        self,
        topic: str,
        value: bytes | None = ...,
        key: bytes | None = ...,
        *,
        on_delivery: Callable[[Any, Any], None] | None = ...,
    ) -> None: ...
    def poll(self, timeout: float = ...) -> int: ...
    def flush(self, timeout: float = ...) -> int: ...


class Publisher:
    def __init__(self, producer: ProducerLike, serde: AvroSerde) -> None:
        self.producer = producer
        self.serde = serde
        self._failures: list[str] = []

    def send(self, topic: str, key: bytes | None, schema: str, value: Mapping[str, Any]) -> None:
        self.send_bytes(topic, key, self.serde.encode(schema, value))

    def send_bytes(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        max_block_s: float | None = None,
        on_delivered: Callable[[int, int], None] | None = None,
    ) -> bool:
        """Queue one record. When the local queue is full, wait for room (at most `max_block_s`
        if given); returns False, with nothing queued, if there was none in time.
        `on_delivered(partition, offset)` hears where the broker put it, once acknowledged."""
        deadline = None if max_block_s is None else time.monotonic() + max_block_s
        report = self._delivered if on_delivered is None else self._reporting(on_delivered)
        while True:
            try:
                self.producer.produce(topic, value=value, key=key, on_delivery=report)
                return True
            except BufferError:
                # The local queue is full: let librdkafka deliver some, then try again. This is the
                # backpressure that keeps a slow broker from growing our memory without bound.
                if deadline is not None and time.monotonic() >= deadline:
                    return False
                self.producer.poll(0.05)

    def _reporting(self, on_delivered: Callable[[int, int], None]) -> Callable[[Any, Any], None]:
        def report(err: Any, msg: Any) -> None:
            self._delivered(err, msg)
            if err is None:
                on_delivered(msg.partition(), msg.offset())

        return report

    def _delivered(self, err: Any, msg: Any) -> None:
        if err is not None:
            self._failures.append(f"{msg.topic()}: {err}")
        else:
            PRODUCED.labels(msg.topic()).inc()

    def poll(self) -> None:
        self.producer.poll(0)

    def take_failures(self) -> list[str]:
        failures, self._failures = self._failures, []
        return failures

    def flush(self, timeout: float = 30.0, stop: threading.Event | None = None) -> None:
        """Wait until every record is acknowledged, or raise. Once `stop` is set the wait is cut
        to a few seconds: the caller then commits nothing, so the records are produced again on
        restart instead of holding up a shutdown while the brokers are unreachable."""
        deadline = time.monotonic() + timeout
        remaining = self.producer.flush(0)
        while remaining and time.monotonic() < deadline:
            if stop is not None and stop.is_set():
                deadline = min(deadline, time.monotonic() + _FLUSH_GRACE_ON_STOP_S)
            remaining = self.producer.flush(min(0.5, max(0.0, deadline - time.monotonic())))
        failures, self._failures = self._failures, []
        if remaining:
            raise DeliveryError(f"{remaining} records not acknowledged within {timeout:.0f}s")
        if failures:
            raise DeliveryError(f"{len(failures)} records failed delivery; first: {failures[0]}")

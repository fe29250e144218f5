"""Producing records: Avro-encode, hand to the idempotent producer, and make delivery failures
loud. `flush()` either returns with everything acknowledged by the brokers or raises."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from prometheus_client import Counter

from tickwire_core.errors import DeliveryError
from tickwire_core.serde import AvroSerde

logger = logging.getLogger(__name__)

PRODUCED = Counter("tickwire_records_produced_total", "Records acknowledged by Kafka", ["topic"])


class ProducerLike(Protocol):
    """The part of confluent_kafka.Producer the pipeline uses (FakeProducer in unit tests)."""

    def produce(
        self, topic: str, value: bytes | None = ..., key: bytes | None = ..., on_delivery: Any = ...
    ) -> None: ...
    def poll(self, timeout: float = ...) -> int: ...
    def flush(self, timeout: float = ...) -> int: ...


class Publisher:
    def __init__(self, producer: ProducerLike, serde: AvroSerde) -> None:
        self.producer = producer
        self.serde = serde
        self._failures: list[str] = []
        self._pending = 0

    def send(self, topic: str, key: bytes | None, schema: str, value: Mapping[str, Any]) -> None:
        self.send_bytes(topic, key, self.serde.encode(schema, value))

    def send_bytes(self, topic: str, key: bytes | None, value: bytes) -> None:
        while True:
            try:
                self.producer.produce(topic, value=value, key=key, on_delivery=self._delivered)
                self._pending += 1
                return
            except BufferError:
                # The local queue is full: let librdkafka deliver some, then try again. This is the
                # backpressure that keeps a slow broker from growing our memory without bound.
                self.producer.poll(0.1)

    def _delivered(self, err: Any, msg: Any) -> None:
        self._pending -= 1
        if err is not None:
            self._failures.append(f"{msg.topic()}: {err}")
        else:
            PRODUCED.labels(msg.topic()).inc()

    def poll(self) -> None:
        self.producer.poll(0)

    def flush(self, timeout: float = 30.0) -> None:
        remaining = self.producer.flush(timeout)
        failures, self._failures = self._failures, []
        if remaining:
            raise DeliveryError(f"{remaining} records not acknowledged within {timeout:.0f}s")
        if failures:
            raise DeliveryError(f"{len(failures)} records failed delivery; first: {failures[0]}")

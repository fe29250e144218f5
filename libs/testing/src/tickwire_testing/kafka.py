"""Small real-Kafka helpers for integration tests: produce encoded records, read a topic back."""

from __future__ import annotations

import time
import uuid
from typing import Any

from confluent_kafka import Consumer, Producer

from tickwire_core.serde import AvroSerde


def produce(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for key, value in records:
        producer.produce(topic, value=value, key=key)
    assert producer.flush(30) == 0, "test records not delivered"


def read_topic(
    bootstrap: str, topic: str, *, expect: int, timeout: float = 60.0, settle: float = 1.0
) -> list[Any]:
    """Read `topic` from the start until `expect` messages have arrived and no more came for
    `settle` seconds (so extra messages are seen, not hidden), or until `timeout`."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages: list[Any] = []
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    try:
        while time.monotonic() < deadline:
            batch = [m for m in consumer.consume(1000, 0.2) if m.error() is None]
            if batch:
                messages.extend(batch)
                quiet_since = time.monotonic()
            elif len(messages) >= expect and time.monotonic() - quiet_since >= settle:
                break
    finally:
        consumer.close()
    return messages


def decode_all(serde: AvroSerde, schema: str, messages: list[Any]) -> list[dict[str, Any]]:
    return [serde.decode(schema, m.value()) for m in messages]


def create_topic(bootstrap: str, name: str, partitions: int = 3) -> str:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(30)
    return name

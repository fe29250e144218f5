"""LocalKafka against the real thing: a single-node KRaft Apache Kafka broker from the jars that
scripts/install-kafka.sh caches (a no-op once installed), started in a temporary directory."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tickwire_core.localstack._process import free_port, pid_alive, port_open
from tickwire_core.localstack.kafka import LocalKafka

pytestmark = pytest.mark.integration


def test_round_trips_a_record_and_stops_cleanly(tmp_path: Path) -> None:
    kafka = LocalKafka(tmp_path / "kafka", port=free_port(), controller_port=free_port())
    kafka.start()
    try:
        pid = int((tmp_path / "kafka" / "kafka.pid").read_text())
        assert pid_alive(pid, "kafka.Kafka")

        topic = f"roundtrip-{uuid.uuid4().hex[:8]}"
        admin = AdminClient({"bootstrap.servers": kafka.bootstrap_servers})
        admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[
            topic
        ].result(timeout=30)

        delivered: list[Message] = []
        producer = Producer(
            {
                "bootstrap.servers": kafka.bootstrap_servers,
                "enable.idempotence": True,
                "acks": "all",
            }
        )
        producer.produce(
            topic, key=b"ABC", value=b"101.5", on_delivery=lambda err, msg: delivered.append(msg)
        )
        assert producer.flush(30) == 0
        assert [m.error() for m in delivered] == [None]

        consumer = Consumer(
            {
                "bootstrap.servers": kafka.bootstrap_servers,
                "group.id": f"test-{topic}",
                "auto.offset.reset": "earliest",
            }
        )
        try:
            consumer.subscribe([topic])
            received = None
            deadline = time.monotonic() + 60
            while received is None and time.monotonic() < deadline:
                msg = consumer.poll(1.0)
                if msg is None or (msg.error() and msg.error().code() == KafkaError._PARTITION_EOF):
                    continue
                assert msg.error() is None, msg.error()
                received = msg
        finally:
            consumer.close()
        assert received is not None, "no record came back within 60 s"
        assert (received.key(), received.value()) == (b"ABC", b"101.5")
        assert received.partition() == delivered[0].partition()
    finally:
        kafka.stop()

    assert not pid_alive(pid, "kafka.Kafka")
    assert not (tmp_path / "kafka" / "kafka.pid").exists()
    assert not port_open(kafka.port)
    assert not port_open(kafka.controller_port)

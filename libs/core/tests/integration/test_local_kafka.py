"""LocalKafka against the real thing: a single-node KRaft Apache Kafka broker from the jars that
scripts/install-kafka.sh caches (a no-op once installed), started in a temporary directory."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
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


def _transactional(kafka: LocalKafka, timeout_ms: int) -> Producer:
    return Producer(
        {
            "bootstrap.servers": kafka.bootstrap_servers,
            "transactional.id": f"t-{uuid.uuid4().hex[:8]}",
            "transaction.timeout.ms": timeout_ms,
        }
    )


def _committed_values(kafka: LocalKafka, topic: str, partitions: int) -> list[bytes]:
    consumer = Consumer(
        {
            "bootstrap.servers": kafka.bootstrap_servers,
            "group.id": f"read-{uuid.uuid4().hex[:8]}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    values: list[bytes] = []
    try:
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < 5:
            for message in consumer.consume(100, timeout=1):
                if message.error() is None:
                    values.append(message.value() or b"")
                    idle_since = time.monotonic()
    finally:
        consumer.close()
    return values


def _log_until(kafka: LocalKafka, offset: int, line: str, timeout_s: float = 60.0) -> str:
    """The broker's log from `offset`, once `line` is in it: the broker answers (start() returns)
    before its coordinators are elected, which it logs a moment later."""
    deadline = time.monotonic() + timeout_s
    while True:
        with open(kafka.log_path, "rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        if line in text or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


def test_a_restart_after_kill_9_fences_the_old_broker_before_it_leads_again(
    tmp_path: Path,
) -> None:
    """kafka_fence.py: the node's controller alone fences the dead incarnation first, so the new
    one is let in at once instead of being refused until the old session expires, and leads (and
    coordinates transactions) only once the controller has made it leader again."""
    kafka = LocalKafka(tmp_path / "kafka", port=free_port(), controller_port=free_port())
    kafka.start()
    try:
        topic = f"txn-{uuid.uuid4().hex[:8]}"
        admin = AdminClient({"bootstrap.servers": kafka.bootstrap_servers})
        admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[
            topic
        ].result(timeout=30)
        producer = _transactional(kafka, 60_000)
        producer.init_transactions(30)
        for n in range(30):
            producer.begin_transaction()
            producer.produce(topic, str(n).encode(), partition=n % 3)
            producer.commit_transaction(30)
        pid = kafka.running_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        while pid_alive(pid, "kafka.Kafka"):
            time.sleep(0.1)
        before = kafka.log_path.stat().st_size

        kafka.start()
        assert sorted(_committed_values(kafka, topic, 3), key=int) == [
            str(n).encode() for n in range(30)
        ]
        restart = _log_until(kafka, before, "Elected as the txn coordinator")
        fencing, starting = (
            restart.index("the controller alone fences"),
            restart.index("--- starting Kafka broker"),
        )
        assert fencing < starting
        assert "Fencing broker 1 " in restart[fencing:starting]
        node = restart[starting:]
        assert "DUPLICATE_BROKER_REGISTRATION" not in node
        assert node.index("The broker has been unfenced") < node.index(
            "Elected as the txn coordinator"
        )
    finally:
        kafka.stop()


def test_a_restarted_broker_is_watched_for_hanging_transactions(tmp_path: Path) -> None:
    """The watch's tool runs against the real broker: a committed transaction and one still open
    with its producer alive are not hanging, and the broker refuses transactions longer than the
    maximum that bounds how soon a hanging one is told."""
    kafka = LocalKafka(tmp_path / "kafka", port=free_port(), controller_port=free_port())
    kafka.start()
    try:
        assert not _watch_running()  # a new broker has nothing to leave hanging
        topic = f"txn-{uuid.uuid4().hex[:8]}"
        admin = AdminClient({"bootstrap.servers": kafka.bootstrap_servers})
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[
            topic
        ].result(timeout=30)
        kafka.stop()
        kafka.start()
        assert _watch_running()
        assert "unclean stop" not in kafka.log_path.read_text()  # it stopped cleanly

        committed = _transactional(kafka, 60_000)
        committed.init_transactions(30)
        committed.begin_transaction()
        committed.produce(topic, b"kept")
        committed.commit_transaction(30)
        still_open = _transactional(kafka, 60_000)
        still_open.init_transactions(30)
        still_open.begin_transaction()
        still_open.produce(topic, b"open")
        assert still_open.flush(30) == 0

        assert kafka.hanging_transactions() == []
        assert kafka.hanging == []
        assert "--- find-hanging" in (tmp_path / "kafka" / "transactions.log").read_text()

        too_long = _transactional(kafka, 60_001)
        with pytest.raises(KafkaException, match="INVALID_TRANSACTION_TIMEOUT"):
            too_long.init_transactions(30)
        still_open.abort_transaction(30)
    finally:
        kafka.stop()
    assert not _watch_running()


def _watch_running() -> bool:
    return any(thread.name == "hanging-transactions" for thread in threading.enumerate())

"""The run loop on the real broker: a failing batch is retried from its first record and its
output appears exactly once; rejects reach the dead-letter topic; offsets end fully committed."""

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from tickwire_core.batch import Consumed, Output, per_record
from tickwire_core.errors import RejectedRecord
from tickwire_core.kafka import consumer_config, producer_config
from tickwire_core.publisher import Publisher
from tickwire_core.runloop import BATCH_FAILURES, LoopOptions, RunLoop
from tickwire_core.serde import AvroSerde
from tickwire_core.settings import KafkaServiceSettings
from tickwire_core.topics import DEAD_LETTER
from tickwire_testing.kafka import create_topic, decode_all, produce, read_topic
from tickwire_testing.loops import running

pytestmark = pytest.mark.integration

N = 300


def signal(i: int) -> dict:
    return {
        "provider": "p",
        "instrument": f"I{i % 7}",
        "ts": i,
        "name": "n",
        "value": float(i),
        "parameters": {"i": str(i)},
    }


def test_failed_batches_are_retried_without_loss_or_duplicates(stack, topic_prefix) -> None:
    serde = AvroSerde()
    source = create_topic(stack.kafka_bootstrap_servers, f"{topic_prefix}loop.in")
    sink = create_topic(stack.kafka_bootstrap_servers, f"{topic_prefix}loop.out")
    produce(
        stack.kafka_bootstrap_servers,
        source,
        [(f"I{i % 7}".encode(), serde.encode("signal", signal(i))) for i in range(N)],
    )
    calls = {"n": 0}

    def handle(record: Consumed) -> list[Output]:
        if record.value["ts"] == 13:
            raise RejectedRecord("unlucky", "thirteen")
        return [Output(sink, record.key, "signal", {**record.value, "name": "seen"})]

    def flaky(records: list[Consumed]):
        calls["n"] += 1
        if calls["n"] in (2, 3):  # the database is down for two attempts
            raise ConnectionError("database unavailable")
        return per_record(handle)(records)

    settings = KafkaServiceSettings(KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers)
    group = f"{topic_prefix}loop"
    failures_before = BATCH_FAILURES._value.get()

    def build(health, stop):
        options = LoopOptions(
            service="test",
            topics=(source,),
            input_schema="signal",
            dead_letter_topic=topic_prefix + DEAD_LETTER,
            batch_size=40,
            max_backoff_s=0.5,
        )
        return RunLoop(
            options,
            consumer=Consumer(consumer_config(settings, group)),
            publisher=Publisher(Producer(producer_config(settings)), serde),
            handler=flaky,
            health=health,
            stop=stop,
        )

    with running(build):
        out = decode_all(
            serde, "signal", read_topic(stack.kafka_bootstrap_servers, sink, expect=N - 1)
        )
        dead = decode_all(
            serde,
            "dead_letter",
            read_topic(stack.kafka_bootstrap_servers, topic_prefix + DEAD_LETTER, expect=1),
        )
    assert BATCH_FAILURES._value.get() - failures_before == 2
    assert sorted(r["ts"] for r in out) == [i for i in range(N) if i != 13]
    assert [(d["reason"], d["message"], d["service"]) for d in dead] == [
        ("unlucky", "thirteen", "test")
    ]
    probe = Consumer({"bootstrap.servers": stack.kafka_bootstrap_servers, "group.id": group})
    try:
        committed = probe.committed([TopicPartition(source, p) for p in range(3)], timeout=10)
        ends = [probe.get_watermark_offsets(tp, timeout=10)[1] for tp in committed]
        assert [tp.offset for tp in committed] == ends and sum(ends) == N
    finally:
        probe.close()

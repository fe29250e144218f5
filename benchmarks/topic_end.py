"""A topic read back whole, up to its end as it was when the reading began, in each partition's
order: what the chaos run's checks read the raw topic and the outputs with."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from confluent_kafka import Consumer, Message, TopicPartition

IDLE_POLLS = 10  # seconds without a record: what is left are transaction markers


def batches_to_end(
    bootstrap: str, topic: str, purpose: str, *, committed_only: bool
) -> Iterator[list[Message]]:
    """Each poll's records of `topic` below its end offsets (errors left out), until every
    partition has reached its end; `committed_only` reads as a read_committed consumer does."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"chaos-{purpose}-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed" if committed_only else "read_uncommitted",
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1]
            for p in partitions
        }
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        left, idle = {p for p, end in ends.items() if end > 0}, 0
        # A partition whose last offsets are transaction markers never delivers them: stop once
        # nothing has come for a while as well.
        while left and idle < IDLE_POLLS:
            messages = consumer.consume(5000, 1.0)
            idle = 0 if messages else idle + 1
            batch = []
            for message in messages:
                if message.error() is not None:
                    continue
                p, offset = message.partition(), message.offset()
                if offset >= ends[p] - 1:
                    left.discard(p)
                if offset < ends[p]:
                    batch.append(message)
            yield batch
    finally:
        consumer.close()

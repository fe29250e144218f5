"""Normalize's output to Kafka: a transactional producer when exactly-once is on, so a batch's
ticks, dead letters and input offsets commit together; plain offset commits otherwise."""

from __future__ import annotations

import threading

from confluent_kafka import Producer

from tickwire_core.commit import Committer, OffsetCommitter, TransactionalCommitter
from tickwire_core.kafka import producer_config
from tickwire_core.publisher import Publisher
from tickwire_core.serde import AvroSerde
from tickwire_normalize.settings import NormalizeSettings


def publisher_and_committer(
    settings: NormalizeSettings, stop: threading.Event
) -> tuple[Publisher, Committer]:
    if not settings.exactly_once:
        publisher = Publisher(Producer(producer_config(settings)), AvroSerde())
        return publisher, OffsetCommitter(publisher, stop)
    transactional = producer_config(
        settings,
        **{
            # Unique and stable per instance: a restarted instance fences off its predecessor.
            "transactional.id": f"{settings.consumer_group}-{settings.instance_id}",
            "transaction.timeout.ms": settings.transaction_timeout_ms,
        },
    )
    publisher = Publisher(Producer(transactional), AvroSerde())
    return publisher, TransactionalCommitter(publisher, stop)

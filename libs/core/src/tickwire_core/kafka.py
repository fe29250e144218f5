"""Kafka client settings in one place: the idempotent producer and the manual-commit consumer
every service uses, with the user's TLS/SASL settings passed through."""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka.admin import AdminClient

from tickwire_core.settings import KafkaServiceSettings

# librdkafka's own log lines go through Python logging (so they come out as JSON like the rest).
# They are handed over on poll()/consume(), which producers and consumers call all the time; the
# admin client of the readiness probe is rarely polled, so it keeps librdkafka's stderr logging.
_LIBRDKAFKA_LOGGER = logging.getLogger("librdkafka")


def producer_config(settings: KafkaServiceSettings, **extra: Any) -> dict[str, Any]:
    return {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "logger": _LIBRDKAFKA_LOGGER,
        "client.id": settings.instance_id,
        # Idempotence (which implies acks=all and bounded in-flight requests) keeps retries from
        # duplicating or reordering records within a partition.
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "batch.num.messages": 10_000,
        "compression.type": "lz4",
        "queue.buffering.max.messages": 200_000,
        **settings.kafka_client_config,
        **extra,
    }


def consumer_config(settings: KafkaServiceSettings, group_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "client.id": settings.instance_id,
        "logger": _LIBRDKAFKA_LOGGER,
        "group.id": group_id,
        # Offsets are committed by the run loop only after the batch's output is durable.
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "partition.assignment.strategy": "cooperative-sticky",
        # librdkafka heartbeats from its own thread, so a long batch never trips this; it only
        # bounds how long a crashed member holds its partitions (the default is 45 s).
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 2_000,
        **settings.kafka_client_config,
        **extra,
    }


def admin_config(settings: KafkaServiceSettings) -> dict[str, Any]:
    return {"bootstrap.servers": settings.kafka_bootstrap_servers, **settings.kafka_client_config}


class BrokerProbe:
    """Readiness questions to the brokers on a client of its own: a consumer's handle must not be
    used from the health thread while the run loop is inside consume() (the call blocks)."""

    def __init__(self, settings: KafkaServiceSettings) -> None:
        self._admin = AdminClient(admin_config(settings))

    def reachable(self) -> bool:
        return bool(self._admin.list_topics(timeout=2).brokers)

    def topic_ready(self, topic: str) -> bool:
        meta = self._admin.list_topics(topic, timeout=2).topics.get(topic)
        return meta is not None and meta.error is None and bool(meta.partitions)

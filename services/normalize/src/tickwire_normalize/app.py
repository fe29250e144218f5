"""Wires normalize into the shared run loop: raw ticks in, ticks and dead letters out."""

from __future__ import annotations

import threading
from collections.abc import Callable

from confluent_kafka import Consumer, Producer

from tickwire_core.health import Health
from tickwire_core.kafka import BrokerProbe, consumer_config, producer_config
from tickwire_core.publisher import Publisher
from tickwire_core.runloop import Consumed, Output, RunLoop, per_record
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import DEAD_LETTER, RAW_TICKS, TICKS, tick_key
from tickwire_normalize.domain.normalize import normalize
from tickwire_normalize.domain.validate import Limits
from tickwire_normalize.settings import NormalizeSettings


def handle_raw(output_topic: str, limits: Limits) -> Callable[[Consumed], list[Output]]:
    def handle(record: Consumed) -> list[Output]:
        tick = normalize(record.value, limits)
        return [Output(output_topic, tick_key(tick["provider"], tick["instrument"]), "tick", tick)]

    return handle


def bootstrap(settings: NormalizeSettings, health: Health, stop: threading.Event) -> RunLoop:
    limits = Limits(max_future_s=settings.max_future_s, max_past_s=settings.max_past_s)
    health.add_check("kafka_brokers", BrokerProbe(settings).reachable)
    return RunLoop(
        service="normalize",
        consumer=Consumer(consumer_config(settings, settings.consumer_group)),
        publisher=Publisher(Producer(producer_config(settings)), AvroSerde()),
        topics=[settings.topic(RAW_TICKS)],
        input_schema="raw_tick",
        handler=per_record(handle_raw(settings.topic(TICKS), limits)),
        dead_letter_topic=settings.topic(DEAD_LETTER),
        health=health,
        stop=stop,
        batch_size=settings.batch_size,
        batch_timeout_s=settings.batch_timeout_ms / 1000,
    )

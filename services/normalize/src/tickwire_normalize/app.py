"""Wires normalize into the shared run loop: raw ticks in, ticks and dead letters out."""

from __future__ import annotations

import threading

from confluent_kafka import Consumer, Producer

from tickwire_core.errors import RejectedRecord
from tickwire_core.health import Health
from tickwire_core.kafka import BrokerProbe, consumer_config, producer_config
from tickwire_core.publisher import Publisher
from tickwire_core.runloop import Consumed, Outcome, Output, RunLoop, reject
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import DEAD_LETTER, RAW_TICKS, TICKS, tick_key
from tickwire_normalize.domain.normalize import normalize
from tickwire_normalize.domain.validate import Limits
from tickwire_normalize.settings import NormalizeSettings


class NormalizeHandler:
    def __init__(self, output_topic: str, limits: Limits) -> None:
        self.output_topic = output_topic
        self.limits = limits

    def __call__(self, records: list[Consumed]) -> Outcome:
        outcome = Outcome()
        for record in records:
            try:
                result = normalize(record.value, self.limits)
            except RejectedRecord as exc:
                outcome.rejects.append(reject(record, exc.reason, exc.message))
                continue
            for exc in result.rejects:
                outcome.rejects.append(reject(record, exc.reason, exc.message))
            for tick in result.ticks:
                key = tick_key(tick["provider"], tick["instrument"])
                outcome.outputs.append(Output(self.output_topic, key, "tick", tick))
        return outcome


def bootstrap(settings: NormalizeSettings, health: Health, stop: threading.Event) -> RunLoop:
    limits = Limits(max_future_s=settings.max_future_s, max_past_s=settings.max_past_s)
    health.add_check("kafka_brokers", BrokerProbe(settings).reachable)
    return RunLoop(
        service="normalize",
        consumer=Consumer(consumer_config(settings, settings.consumer_group)),
        publisher=Publisher(Producer(producer_config(settings)), AvroSerde()),
        topics=[settings.topic(RAW_TICKS)],
        input_schema="raw_tick",
        handler=NormalizeHandler(settings.topic(TICKS), limits),
        dead_letter_topic=settings.topic(DEAD_LETTER),
        health=health,
        stop=stop,
        batch_size=settings.batch_size,
        batch_timeout_s=settings.batch_timeout_ms / 1000,
    )

"""Wires normalize into the shared run loop: raw ticks in, ticks, dead letters and the tally of
dropped copies out, in one Kafka transaction per batch."""

from __future__ import annotations

import threading

from confluent_kafka import Consumer

from tickwire_core.health import Health
from tickwire_core.heartbeat import Heartbeats
from tickwire_core.kafka import BrokerProbe, consumer_config
from tickwire_core.runloop import LoopOptions, RunLoop
from tickwire_core.topics import DEAD_LETTER, DEDUP_TALLIES, RAW_TICKS, TICKS
from tickwire_normalize.adapters.kafka import publisher_and_committer
from tickwire_normalize.domain.dedup import DedupWindow
from tickwire_normalize.domain.reads import UnmappedFields
from tickwire_normalize.domain.validate import Limits
from tickwire_normalize.domain.venues import MAPPINGS
from tickwire_normalize.handler import RECORD_TOPICS, NormalizeHandler
from tickwire_normalize.settings import NormalizeSettings


def bootstrap(settings: NormalizeSettings, health: Health, stop: threading.Event) -> RunLoop:
    limits = Limits(max_future_s=settings.max_future_s, max_past_s=settings.max_past_s)
    window = DedupWindow(int(settings.dedup_window_s * 1_000_000), settings.dedup_max_keys)
    health.add_check("kafka_brokers", BrokerProbe(settings).reachable)
    publisher, committer = publisher_and_committer(settings, stop)
    unmapped = UnmappedFields({provider: m.map for provider, m in MAPPINGS.items()})
    options = LoopOptions(
        service="normalize",
        topics=(settings.topic(RAW_TICKS),),
        input_schema="raw_tick",
        dead_letter_topic=settings.topic(DEAD_LETTER),
        batch_size=settings.batch_size,
        batch_timeout_s=settings.batch_timeout_ms / 1000,
    )
    loop = RunLoop(
        options,
        consumer=Consumer(consumer_config(settings, settings.consumer_group)),
        publisher=publisher,
        handler=NormalizeHandler(
            settings.topic(TICKS),
            limits,
            window,
            unmapped,
            {kind: settings.topic(topic) for kind, topic in RECORD_TOPICS.items()},
            tally_topic=settings.topic(DEDUP_TALLIES),
            instance=settings.instance_id,
        ),
        health=health,
        stop=stop,
        committer=committer,
        heartbeat=Heartbeats.for_service(
            settings, "normalize", settings.instance_id, settings.heartbeat_s
        ),
    )
    loop.stats.unmapped_fields = unmapped.counts  # the heartbeat reads the counts as they grow
    return loop

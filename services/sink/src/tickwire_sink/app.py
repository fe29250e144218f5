"""Wires the sink into the shared run loop: ticks, bars, anomalies, signals, dead letters and
dedup tallies in, rows in TimescaleDB, offsets committed only after the database transaction has
committed."""

from __future__ import annotations

import logging
import threading

import psycopg
from confluent_kafka import Consumer, Producer

from tickwire_core.health import Health
from tickwire_core.kafka import BrokerProbe, consumer_config, producer_config
from tickwire_core.publisher import Publisher
from tickwire_core.runloop import LoopOptions, RunLoop
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import (
    ANOMALIES,
    BARS,
    DEAD_LETTER,
    DEDUP_TALLIES,
    SHORT_INTEREST,
    SHORT_VOLUME,
    SIGNALS,
    STATUS,
    TICKS,
)
from tickwire_core.waiting import database_away, wait_for
from tickwire_sink.adapters.migrations import migrate, schema_ready
from tickwire_sink.handler import SinkHandler
from tickwire_sink.settings import SinkSettings

logger = logging.getLogger(__name__)

# What the sink stores: topic -> the schema of its records.
STORED = {
    TICKS: "tick",
    BARS: "bar",
    ANOMALIES: "anomaly",
    SIGNALS: "signal",
    DEAD_LETTER: "dead_letter",
    SHORT_VOLUME: "short_volume",  # FINRA's, from backfills through normalize
    SHORT_INTEREST: "short_interest",
    STATUS: "heartbeat",  # the other services' heartbeats, into service_status
    DEDUP_TALLIES: "dedup_tally",  # the copies normalize dropped, into dedup_tallies
}


def bootstrap(settings: SinkSettings, health: Health, stop: threading.Event) -> RunLoop:
    def migrated() -> list[int]:
        with psycopg.connect(settings.database_url, connect_timeout=10) as conn:
            return migrate(conn)

    # A database still starting (or restarting) is waited for: compose and Kubernetes start
    # everything at once.
    applied = wait_for(
        "the database",
        migrated,
        stop=stop,
        health=health,
        check="database",
        away=database_away,
    )
    logger.info("database schema up to date (applied now: %s)", applied or "none")
    serde = AvroSerde()
    schemas = {settings.topic(topic): schema for topic, schema in STORED.items()}
    health.add_check("database", lambda: schema_ready(settings.database_url))
    health.add_check("kafka_brokers", BrokerProbe(settings).reachable)
    handler = SinkHandler(
        settings.database_url,
        serde,
        schemas,
        instance=settings.instance_id,
        heartbeat_every_s=settings.heartbeat_s,
    )
    options = LoopOptions(
        service="sink",
        topics=tuple(schemas),
        input_schema=schemas,
        dead_letter_topic=settings.topic(DEAD_LETTER),
        batch_size=settings.batch_size,
        batch_timeout_s=settings.batch_timeout_ms / 1000,
    )
    return RunLoop(
        options,
        consumer=Consumer(consumer_config(settings, settings.consumer_group)),
        publisher=Publisher(Producer(producer_config(settings)), serde),
        handler=handler,
        health=health,
        stop=stop,
        heartbeat=handler,  # written straight into service_status, with the loop's lag
    )

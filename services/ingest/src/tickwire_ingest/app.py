"""Wires the configured connector (simulator, replay or a WebSocket venue) to Kafka. Ingest has
no handler.py: it consumes no topic, so there is no batch to handle; a feed (feeds/) drives the
connector's messages into the raw sink one at a time, as they arrive."""

from __future__ import annotations

import threading
from pathlib import Path

from confluent_kafka import Consumer, Producer

from tickwire_core.health import Health
from tickwire_core.heartbeat import Heartbeats, beat_in_background
from tickwire_core.kafka import BrokerProbe, consumer_config, producer_config
from tickwire_core.publisher import Publisher
from tickwire_core.serde import AvroSerde
from tickwire_core.service import Runnable
from tickwire_core.topics import RAW_TICKS
from tickwire_ingest.adapters.connection_config import ConnectionConfig
from tickwire_ingest.adapters.kafka_sink import KafkaRawSink
from tickwire_ingest.adapters.raw_tail import last_sequences
from tickwire_ingest.adapters.replay_file import ReplayFile
from tickwire_ingest.adapters.venue_runner import VenueRunner
from tickwire_ingest.connectors import fault_config, make_venue
from tickwire_ingest.domain.raw import Envelope
from tickwire_ingest.domain.replay import Pacer
from tickwire_ingest.domain.sequence import SequenceTracker
from tickwire_ingest.domain.simulator import PROVIDER, SimConfig, Simulator
from tickwire_ingest.feeds.replay import ReplayFeed
from tickwire_ingest.feeds.simulator import SimulatorFeed
from tickwire_ingest.feeds.venue import VenueFeed
from tickwire_ingest.settings import IngestSettings

# Delivery never times out: a message waits in the bounded queue until Kafka takes it, and when
# the queue is full the connector records a backpressure gap instead (adapters/kafka_sink.py).
_PRODUCER = {"message.timeout.ms": 0}


def bootstrap(settings: IngestSettings, health: Health, stop: threading.Event) -> Runnable:
    topic = settings.topic(RAW_TICKS)
    probe = BrokerProbe(settings)
    health.add_check("kafka_topic", lambda: probe.topic_ready(topic))
    publisher = Publisher(Producer(producer_config(settings, **_PRODUCER)), AvroSerde())
    # Replay files name the provider on every line; the envelope's is the connector's own.
    sink = KafkaRawSink(
        publisher,
        topic,
        Envelope(settings.connector, settings.ingest_instance),
        max_block_s=settings.max_block_ms / 1000,
    )
    feed = settings.feed or settings.connector
    heartbeats = Heartbeats.for_service(
        settings, "ingest", f"{feed}/{settings.ingest_instance}", settings.heartbeat_s
    )
    beat_in_background(heartbeats, sink.stats, stop)
    if settings.connector == "simulator":
        faults = fault_config(settings)
        config = SimConfig(
            settings.sim_instrument_specs(),
            seed=settings.sim_seed,
            trade_probability=settings.sim_trade_probability,
            faults=faults,
        )
        instruments = [spec.name for spec in config.instruments]

        def resume() -> dict[str, int]:
            consumer = Consumer(consumer_config(settings, f"{settings.instance_id}-resume"))
            try:
                return last_sequences(consumer, topic, PROVIDER, instruments)
            finally:
                consumer.close()

        return SimulatorFeed(
            resume=resume,
            simulator=Simulator(config),
            sink=sink,
            rate=settings.sim_rate,
            count=settings.sim_count,
            stop=stop,
            health=health,
            tracker=SequenceTracker() if faults.enabled else None,
            state_path=Path(settings.sim_state_path) if settings.sim_state_path else None,
            epoch_s=settings.sim_epoch_s,
        )
    if settings.connector == "replay":
        return ReplayFeed(
            file=ReplayFile(settings.replay_path),
            pacer=Pacer(settings.replay_speed),
            sink=sink,
            stop=stop,
            health=health,
            finished=threading.Event(),
        )
    venue = make_venue(settings)

    def on_tick() -> None:
        health.beat()
        publisher.poll()  # serve delivery reports between frames

    runner = VenueRunner(venue, sink, ConnectionConfig.from_settings(settings), on_tick=on_tick)
    health.add_check("venue_connections", runner.healthy)
    return VenueFeed(runner=runner, sink=sink, stop=stop, health=health)

"""Wires the simulator connector to Kafka and paces it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import Producer

from tickwire_core.clock import now_us
from tickwire_core.health import Health
from tickwire_core.kafka import BrokerProbe, producer_config
from tickwire_core.publisher import Publisher
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import RAW_TICKS, tick_key
from tickwire_ingest.domain.raw import Envelope
from tickwire_ingest.domain.simulator import PROVIDER, SimConfig, Simulator
from tickwire_ingest.settings import IngestSettings

logger = logging.getLogger(__name__)

_MAX_BURST = 5_000  # messages generated per loop turn at most, so stop and health stay prompt
_FLUSH_EVERY_S = 0.5  # how often delivery is confirmed (and failures surface)


@dataclass
class SimulatorFeed:
    simulator: Simulator
    envelope: Envelope
    publisher: Publisher
    topic: str
    rate: float
    count: int
    stop: threading.Event
    health: Health
    clock: Callable[[], int] = now_us

    def run(self) -> None:
        started = time.monotonic()
        last_flush = started
        sent = 0
        while not self.stop.is_set() and (self.count == 0 or sent < self.count):
            self.health.beat()
            due = (
                _MAX_BURST
                if self.rate <= 0
                else int((time.monotonic() - started) * self.rate) - sent
            )
            if self.count:
                due = min(due, self.count - sent)
            due = min(due, _MAX_BURST)
            if due <= 0:
                self.publisher.poll()
                self.stop.wait(min(0.05, 1.0 / self.rate))
                continue
            for _ in range(due):
                msg = self.simulator.next_message(self.clock())
                record = self.envelope.wrap(msg.feed, msg.instrument, msg.payload, self.clock())
                self.publisher.send(
                    self.topic, tick_key(PROVIDER, msg.instrument), "raw_tick", record
                )
            sent += due
            if time.monotonic() - last_flush >= _FLUSH_EVERY_S:
                self.publisher.flush(stop=self.stop)
                last_flush = time.monotonic()
            else:
                self.publisher.poll()
        self.publisher.flush(stop=self.stop)
        logger.info("simulator published messages=%d in %.1fs", sent, time.monotonic() - started)
        if self.count:
            # Stay up (and ready) until told to stop, so supervisors see a clean, finished feed.
            while not self.stop.wait(1.0):
                self.health.beat()


def bootstrap(settings: IngestSettings, health: Health, stop: threading.Event) -> SimulatorFeed:
    producer = Producer(producer_config(settings))
    topic = settings.topic(RAW_TICKS)
    probe = BrokerProbe(settings)
    health.add_check("kafka_topic", lambda: probe.topic_ready(topic))
    config = SimConfig(
        settings.sim_instrument_specs(),
        seed=settings.sim_seed,
        trade_probability=settings.sim_trade_probability,
    )
    return SimulatorFeed(
        simulator=Simulator(config),
        envelope=Envelope(PROVIDER, settings.ingest_instance),
        publisher=Publisher(producer, AvroSerde()),
        topic=topic,
        rate=settings.sim_rate,
        count=settings.sim_count,
        stop=stop,
        health=health,
    )

"""Wires the sink into the shared run loop: ticks in, rows in TimescaleDB, offsets committed only
after the database transaction has committed."""

from __future__ import annotations

import logging
import threading

import psycopg
from confluent_kafka import Consumer, Producer
from prometheus_client import Counter

from tickwire_core.health import Health
from tickwire_core.kafka import BrokerProbe, consumer_config, producer_config
from tickwire_core.publisher import Publisher
from tickwire_core.runloop import Consumed, Outcome, RunLoop
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import DEAD_LETTER, TICKS
from tickwire_sink.adapters.migrations import migrate
from tickwire_sink.adapters.ticks import TickWriter
from tickwire_sink.settings import SinkSettings

logger = logging.getLogger(__name__)

ROWS_WRITTEN = Counter("tickwire_sink_rows_written_total", "New rows written", ["table"])
ROWS_SKIPPED = Counter("tickwire_sink_rows_duplicate_total", "Rows already stored", ["table"])


class TickSink:
    """Batch handler: writes a batch of ticks, reconnecting after a broken connection. An error
    propagates to the run loop, which then neither commits nor moves on."""

    def __init__(self, database_url: str, serde: AvroSerde) -> None:
        self.database_url = database_url
        self.tick_schema = serde.schema("tick")
        self._writer: TickWriter | None = None

    def _connected(self) -> TickWriter:
        if self._writer is None or self._writer.conn.closed:
            conn = psycopg.connect(
                self.database_url, connect_timeout=5, application_name="tickwire-sink"
            )
            self._writer = TickWriter(conn, self.tick_schema)
        return self._writer

    def __call__(self, records: list[Consumed]) -> Outcome:
        writer = self._connected()
        try:
            new = writer.write([r.value for r in records])
        except psycopg.OperationalError:
            writer.conn.close()  # reconnect on the retry
            raise
        ROWS_WRITTEN.labels("ticks").inc(new)
        ROWS_SKIPPED.labels("ticks").inc(len(records) - new)
        return Outcome()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.conn.close()


def database_ready(database_url: str) -> bool:
    with psycopg.connect(database_url, connect_timeout=2) as conn:
        return conn.execute("SELECT to_regclass('ticks') IS NOT NULL").fetchone() == (True,)


def bootstrap(settings: SinkSettings, health: Health, stop: threading.Event) -> RunLoop:
    with psycopg.connect(settings.database_url, connect_timeout=10) as conn:
        applied = migrate(conn)
    logger.info("database schema up to date (applied now: %s)", applied or "none")
    serde = AvroSerde()
    health.add_check("database", lambda: database_ready(settings.database_url))
    health.add_check("kafka_brokers", BrokerProbe(settings).reachable)
    return RunLoop(
        service="sink",
        consumer=Consumer(consumer_config(settings, settings.consumer_group)),
        publisher=Publisher(Producer(producer_config(settings)), serde),
        topics=[settings.topic(TICKS)],
        input_schema="tick",
        handler=TickSink(settings.database_url, serde),
        dead_letter_topic=settings.topic(DEAD_LETTER),
        health=health,
        stop=stop,
        batch_size=settings.batch_size,
        batch_timeout_s=settings.batch_timeout_ms / 1000,
    )

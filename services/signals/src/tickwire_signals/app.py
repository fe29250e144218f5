"""The faust app: ticks in, in batches (per-event agents are too slow for market data), state in a
changelog-backed table that moves with its partition, anomalies, bars, signals and dead letters out.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from typing import Any

import faust
from confluent_kafka import Producer
from faust.types import EventT

from tickwire_core.health import Health
from tickwire_core.heartbeat import Heartbeats, LoopStats
from tickwire_core.kafka import BrokerProbe, producer_config
from tickwire_core.publisher import Publisher
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import ANOMALIES, BARS, DEAD_LETTER, SIGNALS, TICKS, load_topics
from tickwire_signals.adapters.faust_runtime import QuietMonitor
from tickwire_signals.adapters.kafka_options import faust_broker_options
from tickwire_signals.adapters.output import SignalsOutput
from tickwire_signals.domain.engine import SignalEngine
from tickwire_signals.handler import SignalsHandler, TickEvent
from tickwire_signals.settings import SignalsSettings

logger = logging.getLogger(__name__)

STATE_TABLE = "instrument-state"


def build_app(settings: SignalsSettings, health: Health) -> faust.App:
    partitions = {t.name: t.partitions for t in load_topics()}
    app_id = settings.topic(settings.consumer_group)
    app = faust.App(
        app_id,
        **faust_broker_options(settings),
        datadir=settings.data_dir,
        store="memory://",  # rebuilt from the changelog topic on start-up and on assignment
        topic_partitions=partitions[TICKS],  # the state table is partitioned like its input
        topic_replication_factor=settings.table_replication_factor,
        web_enabled=False,  # /livez, /readyz, /metrics come from tickwire_core.health
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_max_poll_records=10_000,
        stream_buffer_maxsize=65_536,
        table_cleanup_interval=3600.0,
        # A crashed worker's partitions move to the others after this (faust's default: 60 s).
        broker_session_timeout=10.0,
        Monitor=QuietMonitor,
        broker_heartbeat_interval=2.0,
    )
    serde = AvroSerde()
    ticks = app.topic(
        settings.topic(TICKS),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )
    # Output goes through librdkafka, not faust's producer (see SignalsOutput).
    output = SignalsOutput(
        Publisher(Producer(producer_config(settings, **{"message.timeout.ms": 0})), serde),
        {
            "anomaly": settings.topic(ANOMALIES),
            "bar": settings.topic(BARS),
            "signal": settings.topic(SIGNALS),
        },
        dead_letter_topic=settings.topic(DEAD_LETTER),
        source_topic=ticks.get_topic_name(),
    )
    table = app.Table(STATE_TABLE, partitions=partitions[TICKS], key_type=bytes)
    handler = SignalsHandler(
        SignalEngine(settings.signals_config()), serde, lambda key: table.data.get(key)
    )
    assigned = threading.Event()
    stats = LoopStats()
    heartbeats = Heartbeats.for_service(settings, "signals", settings.instance_id)
    probe = BrokerProbe(settings)
    health.add_check("kafka_brokers", probe.reachable)
    health.add_check("partitions_assigned", assigned.is_set)
    health.add_check("state_recovered", lambda: not app.in_recovery and not app.rebalancing)

    # faust's signal and timer decorators are loosely typed; the handlers' shapes are faust's own.
    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def _assigned(_app: Any, assigned_partitions: set[Any], **_kw: Any) -> None:
        if any(tp.topic == ticks.get_topic_name() for tp in assigned_partitions):
            assigned.set()

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def _revoked(_app: Any, revoked: set[Any], **_kw: Any) -> None:
        handler.forget({tp.partition for tp in revoked if tp.topic == ticks.get_topic_name()})

    @app.timer(5.0)  # type: ignore[untyped-decorator]
    async def _alive() -> None:  # a quiet input must not read as a hung worker
        health.beat()

    @app.timer(settings.heartbeat_s)  # type: ignore[untyped-decorator]
    async def _heartbeat() -> None:
        heartbeats.send(stats)  # queues without waiting; its own producer delivers

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def _last_heartbeat(_app: Any, **_kw: Any) -> None:  # final counters
        await asyncio.to_thread(heartbeats.send_last, stats)

    @app.agent(ticks)
    async def signals(stream: faust.StreamT[bytes]) -> None:
        # take_events (acks after the batch is handled) is on the concrete Stream only.
        assert isinstance(stream, faust.Stream)
        async for events in stream.take_events(
            settings.batch_size, settings.batch_within_ms / 1000
        ):
            health.beat()
            try:
                await _process(events)
            except Exception as exc:
                stats.failed(f"{type(exc).__name__}: {exc}")
                raise

    async def _process(events: Sequence[EventT[bytes]]) -> None:
        batch = [
            TickEvent(e.message.key or b"", e.message.value, e.message.partition, e.message.offset)
            for e in events
        ]
        result = handler(batch)
        output.send(result)
        emitted = result.emitted
        stats.rows_in += len(batch)
        stats.rows_out += len(emitted.anomalies) + len(emitted.bars) + len(emitted.signals)
        stats.rows_refused += len(result.undecodable)
        # Outputs are durable before the state that says their ticks were applied.
        await asyncio.to_thread(output.flush)
        written = []
        for key, partition, state in result.states:
            table.data[key] = state
            written.append(table.send_changelog(partition, key, state))
        # ... and the state is durable before the batch is acknowledged: faust commits the offsets
        # of acknowledged events on its own schedule, and an offset committed ahead of the state
        # it produced would resume a restarted worker past ticks its state never saw. Each write's
        # own future is the barrier (it resolves when the brokers acknowledged it, and raises if
        # they refused): faust's producer flush is not, since it stops waiting on its buffer after
        # 0.1 s without progress, which a loaded machine exceeds.
        await asyncio.gather(*written)

    return app

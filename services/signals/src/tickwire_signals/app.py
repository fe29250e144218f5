"""The faust app: ticks in, a fetch at a time past faust's per-event path (too slow for market
data), state in a changelog-backed table that moves with its partition, anomalies, bars, signals
and dead letters out."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from typing import Any, cast

import faust
from confluent_kafka import Producer
from faust.types import TP, Message
from prometheus_client import Counter

from tickwire_core.health import Health
from tickwire_core.heartbeat import Heartbeats, LoopStats
from tickwire_core.kafka import BrokerProbe, producer_config
from tickwire_core.publisher import Publisher
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import ANOMALIES, BARS, DEAD_LETTER, SIGNALS, TICKS, load_topics
from tickwire_signals.adapters.faust_runtime import QuietMonitor, read_committed_only
from tickwire_signals.adapters.kafka_options import faust_broker_options, hide_sasl_tokens
from tickwire_signals.adapters.output import SignalsOutput
from tickwire_signals.adapters.refetch import refetch_dropped
from tickwire_signals.adapters.tick_feed import feed_ticks, mark_read
from tickwire_signals.domain.continuity import Continuity
from tickwire_signals.domain.engine import SignalEngine
from tickwire_signals.domain.rewinds import Rewinds
from tickwire_signals.handler import SignalsHandler, TickEvent
from tickwire_signals.settings import SignalsSettings

logger = logging.getLogger(__name__)

STATE_TABLE = "instrument-state"
HOLES = Counter(
    "tickwire_signals_holes_total",
    "Ticks that came after a fetched record that never reached the handler (read again)",
)


def build_app(settings: SignalsSettings, health: Health) -> faust.App:
    partitions = {t.name: t.partitions for t in load_topics()}
    app_id = settings.topic(settings.consumer_group)
    hide_sasl_tokens()
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

    # A batch never straddles a rebalance: the revocation waits for the batch in hand to finish
    # (outputs flushed, states acknowledged), so the next owner's recovery reads every state it
    # wrote and no state of a partition it lost is written after that.
    idle = asyncio.Event()
    idle.set()
    rewinds = Rewinds()
    continuity = Continuity()
    applied: set[tuple[int, int]] = set()  # (partition, offset) of the batch just applied
    consumer = app.consumer
    read_committed_only(consumer)
    plain_ack = consumer.ack
    ticks_topic = ticks.get_topic_name()

    def ack_applied(message: Any) -> bool:
        """Only an applied tick is acknowledged (and so committed); one faust let go unapplied
        is read again (see Rewinds)."""
        if message.topic != ticks_topic:
            return bool(plain_ack(message))
        if (message.partition, message.offset) in applied:
            applied.discard((message.partition, message.offset))
            return bool(plain_ack(message))
        rewinds.skipped(message.partition, message.offset)
        return False

    consumer.ack = ack_applied  # type: ignore[method-assign]
    refetch_dropped(consumer, lambda: app.consumer_generation_id, ticks_topic, continuity)
    plain_wait_empty = consumer.wait_empty

    async def wait_empty() -> None:
        """faust's revocation waits here for the records it handed on, then commits: the batch in
        hand is one too."""
        try:
            await asyncio.wait_for(idle.wait(), timeout=settings.stop_grace_s)
        except TimeoutError:
            logger.error("a batch still runs %.0f s into a rebalance", settings.stop_grace_s)
        await plain_wait_empty()

    consumer.wait_empty = wait_empty  # type: ignore[method-assign]
    plain_perform_seek = consumer.perform_seek

    async def perform_seek() -> None:
        """faust seeks its partitions to their committed offsets after an assignment: the first
        tick of each must be the committed one (or the first record after it)."""
        await plain_perform_seek()
        committed = cast(Any, consumer)._read_offset  # what it just sought to, None for none
        for tp in consumer.assignment():
            if tp.topic == ticks_topic:
                continuity.resume_at(tp.partition, committed.get(tp))

    consumer.perform_seek = perform_seek  # type: ignore[method-assign]

    async def read_again() -> None:
        assignment = consumer.assignment()
        for partition, offset in rewinds.seeks().items():
            tp = TP(ticks_topic, partition)
            if tp in assignment:
                logger.warning(
                    "ticks of partition %d from offset %d went by unapplied; reading them again",
                    partition,
                    offset,
                )
                await consumer.seek(tp, offset)
                continuity.resume_at(partition, offset)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def _revoked(_app: Any, revoked: set[Any], **_kw: Any) -> None:
        try:
            await asyncio.wait_for(idle.wait(), timeout=settings.stop_grace_s)
        except TimeoutError:
            logger.error("a batch still runs %.0f s into a rebalance", settings.stop_grace_s)
        lost = {tp.partition for tp in revoked if tp.topic == ticks_topic}
        handler.forget(lost)
        rewinds.forget(lost)
        continuity.forget(lost)
        applied.clear()  # faust waited for every acknowledgement before it revoked

    @app.timer(1.0)  # type: ignore[untyped-decorator]
    async def _read_again_while_idle() -> None:  # a partition skipped at its end has no next batch
        if idle.is_set():
            await read_again()

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
        # Subscribes the worker to the ticks topic, and so gets it its partitions; the ticks reach
        # the handler from the consumer's fetches (feed_ticks), never through this stream. Should
        # one come this way, faust's acknowledgement of it is refused (ack_applied): read again.
        async for _tick in stream:
            logger.error("a tick came through faust's stream; it is read again")

    async def process_fetch(messages: list[Message], fetched_in: int) -> None:
        """The ticks of one fetch, in batches. Those fetched in an earlier generation of the group,
        or once a rebalance began, are left alone: the partitions' next owner (this worker, maybe)
        reads them again from the committed offset, after the state that covers them was
        recovered."""
        if fetched_in != app.consumer_generation_id or not cast(Any, consumer).flow_active:
            logger.info("left %d ticks fetched before a rebalance", len(messages))
            return
        health.beat()
        idle.clear()
        try:
            await read_again()
            kept = continuous(rewinds.admit(messages))
            for start in range(0, len(kept), settings.batch_size):
                await _process(kept[start : start + settings.batch_size])
        except Exception as exc:
            stats.failed(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            idle.set()

    def continuous(messages: Sequence[Message]) -> list[Message]:
        """The messages with nothing fetched missing before them; a partition with a hole is
        read again from it (the messages past the hole are left out unapplied, and Rewinds seeks
        back and waits for the hole's record)."""
        kept = []
        broken: set[int] = set()
        for message in messages:
            partition = message.partition
            if partition in broken:
                continue
            hole = continuity.check(partition, message.offset)
            if hole is None:
                kept.append(message)
                continue
            broken.add(partition)
            HOLES.inc()
            logger.warning(
                "partition %d: tick %d came while the fetched record %d never did; reading "
                "from %d again",
                partition,
                message.offset,
                hole,
                hole,
            )
            rewinds.skipped(partition, hole)
        return kept

    async def _process(messages: Sequence[Message]) -> None:
        batch = [TickEvent(m.key or b"", m.value, m.partition, m.offset) for m in messages]
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
        for message in messages:
            await mark_read(consumer, message)
            applied.add((message.partition, message.offset))
            consumer.ack(message)

    feed_ticks(consumer, ticks_topic, lambda: app.consumer_generation_id, process_fetch)
    return app

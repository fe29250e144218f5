"""The one consume -> handle -> produce loop of every Kafka-consuming service: batch consume,
decode, hand the batch to a handler, produce its output and dead letters, flush, then commit.

If the handler or the flush fails, nothing is committed: the batch's partitions are rewound, the
circuit opens (fetching paused, so an outage costs no memory) and the batch is tried again after a
capped, growing backoff (half-open), so a record is never lost. With the default committer
a retried batch may be produced twice (downstream writers are idempotent on natural keys); with the
TransactionalCommitter (tickwire_core.commit) a batch is produced exactly once."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from prometheus_client import Counter, Gauge, Histogram

from tickwire_core.batch import BatchHandler, Consumed, Outcome, Reject
from tickwire_core.breaker import CLOSED, HALF_OPEN, OPEN, Breaker
from tickwire_core.clock import now_us
from tickwire_core.commit import Committer, OffsetCommitter
from tickwire_core.errors import SerializationError
from tickwire_core.health import Health
from tickwire_core.heartbeat import HeartbeatSender, LoopStats
from tickwire_core.publisher import Publisher

logger = logging.getLogger(__name__)

CONSUMED = Counter("tickwire_records_consumed_total", "Records consumed", ["topic"])
DEAD_LETTERS = Counter(
    "tickwire_dead_letters_total", "Records sent to the dead-letter topic", ["reason"]
)
BATCH_SECONDS = Histogram("tickwire_batch_seconds", "Time to handle, flush and commit one batch")
BATCH_FAILURES = Counter("tickwire_batch_failures_total", "Batches retried after an error")
LAG = Gauge("tickwire_consumer_lag", "High watermark minus position", ["topic", "partition"])
LAST_COMMIT = Gauge("tickwire_last_commit_timestamp_seconds", "Time of the last offset commit")
BREAKER = Gauge(
    "tickwire_circuit_state", "Circuit of the downstream: 0 closed, 1 open, 2 half-open"
)
_BREAKER_CODE = {CLOSED: 0, OPEN: 1, HALF_OPEN: 2}


@dataclass(frozen=True, slots=True)
class LoopOptions:
    """What a run loop reads and in what batches, built from the service's settings at its entry
    point. `input_schema`: one schema for every input topic, or one per topic (a writer of
    several record kinds)."""

    service: str
    topics: tuple[str, ...]
    input_schema: str | Mapping[str, str]
    dead_letter_topic: str
    batch_size: int = 1000
    batch_timeout_s: float = 0.2
    max_backoff_s: float = 30.0


class RunLoop:
    """`options` say what to read and in what batches (plain values from settings); the keyword
    arguments are what the service wires in: its clients, its handler (tickwire_core.batch), its
    health, stop event, committer and heartbeat."""

    def __init__(
        self,
        options: LoopOptions,
        *,
        consumer: Consumer,
        publisher: Publisher,
        handler: BatchHandler,
        health: Health,
        stop: threading.Event,
        committer: Committer | None = None,
        heartbeat: HeartbeatSender | None = None,
    ) -> None:
        self.options = options
        self.consumer = consumer
        self.publisher = publisher
        self.handler = handler
        self.health = health
        self.stop = stop
        self.committer = committer or OffsetCommitter(publisher, stop)
        self.breaker = Breaker(max_s=options.max_backoff_s)
        self._paused = False
        self.assigned = threading.Event()
        self._lag_checked = 0.0
        # Counters and state for the heartbeat (what /v1/status shows of this instance).
        self.stats = LoopStats(circuit=CLOSED)
        self.heartbeat = heartbeat
        health.add_check("kafka_partitions", self.assigned.is_set)

    def run(self) -> None:
        self.committer.start()
        self.consumer.subscribe(
            list(self.options.topics),
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )
        try:
            while not self.stop.is_set():
                self.health.beat()
                self._update_lag()
                self.stats.circuit = self.breaker.state
                if self.heartbeat is not None:
                    self.heartbeat.maybe_send(self.stats)
                if not self.breaker.may_try():
                    self._hold_while_open()
                    continue
                if self._paused:  # half-open: fetch again, and let one batch decide
                    self._resume_all()
                messages = self.consumer.consume(
                    self.options.batch_size, self.options.batch_timeout_s
                )
                if not messages:
                    continue
                try:
                    self._process(messages)
                    if self.breaker.state != CLOSED:
                        logger.info("batch succeeded; circuit closed, partitions resumed")
                    self.breaker.succeeded()
                except Exception as exc:
                    BATCH_FAILURES.inc()
                    self.stats.failed(f"{type(exc).__name__}: {exc}")
                    self.committer.abort()
                    self._rewind(messages)
                    delay = self.breaker.failed()
                    logger.exception(
                        "batch failed (attempt %d); circuit open, partitions paused, retry in "
                        "%.1fs",
                        self.breaker.failures,
                        delay,
                    )
                    self._pause_all()
                BREAKER.set(_BREAKER_CODE[self.breaker.state])
        finally:
            if self.heartbeat is not None:
                self.stats.circuit = self.breaker.state
                with contextlib.suppress(Exception):  # stopping must not fail on a status report
                    self.heartbeat.send_last(self.stats)
            self.consumer.close()
            close = getattr(self.handler, "close", None)
            if close is not None:
                close()
            logger.info("%s stopped", self.options.service)

    def _pause_all(self) -> None:
        """While the circuit is open, fetching stops: memory stays bounded however long the
        outage, and nothing is read that would have to be read again."""
        assignment = self.consumer.assignment()
        if assignment:
            self.consumer.pause(assignment)
        self._paused = True

    def _resume_all(self) -> None:
        assignment = self.consumer.assignment()
        if assignment:
            self.consumer.resume(assignment)
        self._paused = False
        BREAKER.set(_BREAKER_CODE[HALF_OPEN])

    def _hold_while_open(self) -> None:
        BREAKER.set(_BREAKER_CODE[OPEN])
        # Polling goes on while paused: it serves rebalances, and a consumer that stops polling
        # for max.poll.interval.ms is put out of its group.
        stray = self.consumer.consume(
            self.options.batch_size, min(0.5, self.breaker.remaining_s() or 0.5)
        )
        if stray:  # newly assigned partitions are paused on assignment; just in case
            self._rewind(stray)

    def _process(self, messages: list[Any]) -> None:
        started = time.perf_counter()
        records: list[Consumed] = []
        rejects: list[Reject] = []
        offsets: dict[tuple[str, int], int] = {}
        for msg in messages:
            if msg.error() is not None:
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise RuntimeError(f"consume error: {msg.error()}")
            topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
            offsets[(topic, partition)] = offset + 1
            CONSUMED.labels(topic).inc()
            raw = msg.value() or b""
            try:
                schema = (
                    self.options.input_schema
                    if isinstance(self.options.input_schema, str)
                    else self.options.input_schema[topic]
                )
                value = self.publisher.serde.decode(schema, msg.value())
            except SerializationError as exc:
                rejects.append(
                    Reject(topic, partition, offset, msg.key(), raw, "undecodable", str(exc))
                )
                continue
            records.append(Consumed(topic, partition, offset, msg.key(), raw, value))
        self.committer.begin()
        outcome = self.handler(records) if records else Outcome()
        for out in outcome.outputs:
            self.publisher.send(out.topic, out.key, out.schema, out.value)
        for rej in [*rejects, *outcome.rejects]:
            self._dead_letter(rej)
        hook = getattr(self.handler, "commit_position", None)
        positions = []
        for (t, p), o in offsets.items():
            position = hook(t, p, o) if hook is not None else (o, None)
            if position is not None:
                offset, meta = position
                positions.append(
                    TopicPartition(t, p, offset)
                    if meta is None
                    else TopicPartition(t, p, offset, meta)
                )
        self.committer.commit(self.consumer, positions)
        self.stats.rows_in += len(records) + len(rejects)
        self.stats.rows_out += len(outcome.outputs)
        self.stats.rows_refused += len(rejects) + len(outcome.rejects)
        if positions:
            LAST_COMMIT.set_to_current_time()
        BATCH_SECONDS.observe(time.perf_counter() - started)

    def _dead_letter(self, rej: Reject) -> None:
        DEAD_LETTERS.labels(rej.reason).inc()
        logger.warning(
            "dead-lettered topic=%s partition=%d offset=%d reason=%s: %s",
            rej.topic,
            rej.partition,
            rej.offset,
            rej.reason,
            rej.message,
        )
        self.publisher.send(
            self.options.dead_letter_topic,
            rej.key,
            "dead_letter",
            {
                "reason": rej.reason,
                "message": rej.message,
                "service": self.options.service,
                "source_topic": rej.topic,
                "source_partition": rej.partition,
                "source_offset": rej.offset,
                "source_key": rej.key,
                "payload": rej.raw,
                "rejected_ts": now_us(),
                "provider": rej.provider,
                "instrument": rej.instrument,
                "event_ts": rej.event_ts,
            },
        )

    def _rewind(self, messages: list[Any]) -> None:
        first: dict[tuple[str, int], int] = {}
        for msg in messages:
            if msg.error() is None:
                first.setdefault((msg.topic(), msg.partition()), msg.offset())
        for (topic, partition), offset in first.items():
            try:
                self.consumer.seek(TopicPartition(topic, partition, offset))
            except Exception:  # the partition moved to another member: it re-reads from the commit
                logger.info("not rewinding %s[%d]: no longer assigned", topic, partition)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        logger.info("assigned %s", [f"{p.topic}[{p.partition}]" for p in partitions])
        hook = getattr(self.handler, "on_assign", None)
        if hook is not None and partitions:
            hook(consumer, partitions)
            # Assigning here is what makes the start offsets the hook set take effect (otherwise
            # the client assigns the partitions as they came, from the committed offsets).
            try:
                consumer.incremental_assign(partitions)  # cooperative-sticky, the default
            except KafkaException:
                consumer.assign(partitions)  # an eager assignment strategy was configured
        if partitions:
            # librdkafka keeps a partition's pause through its revocation: one paused while the
            # circuit was open, lost in a rebalance before the circuit closed (so not resumed with
            # the rest) and assigned back later would never be read again.
            if self._paused:
                consumer.pause(partitions)
            else:
                consumer.resume(partitions)
        self.assigned.set()

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Nothing is in flight between batches, so there is nothing to flush here.
        logger.info("revoked %s", [f"{p.topic}[{p.partition}]" for p in partitions])
        hook = getattr(self.handler, "on_revoke", None)
        if hook is not None:
            hook(partitions)
        for p in partitions:
            with contextlib.suppress(KeyError):
                LAG.remove(p.topic, str(p.partition))

    def _update_lag(self) -> None:
        if time.monotonic() - self._lag_checked < 5.0:
            return
        self._lag_checked = time.monotonic()
        total: int | None = None
        for tp in self.consumer.position(self.consumer.assignment()):
            _low, high = self.consumer.get_watermark_offsets(tp, cached=True)
            if tp.offset >= 0 and high >= 0:
                LAG.labels(tp.topic, str(tp.partition)).set(max(0, high - tp.offset))
                total = (total or 0) + max(0, high - tp.offset)
        self.stats.lag = total

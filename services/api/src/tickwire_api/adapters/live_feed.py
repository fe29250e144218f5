"""The live feed: one group-less Kafka consumer thread per API process that reads the anomalies
and signals topics from their end, decodes each record once and hands batches to `deliver`.

No group, no commits: every API process reads every partition itself, from the high watermark it
found at start (partitions that appear later, from their beginning), so a restart skips what
happened meanwhile; the history routes serve that."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from tickwire_api.adapters.live_metrics import FEED_CONNECTED, RECORDS_UNDECODABLE
from tickwire_api.domain.live import Kind, LiveEvent, live_event
from tickwire_core.errors import SerializationError
from tickwire_core.serde import AvroSerde

logger = logging.getLogger(__name__)

Deliver = Callable[[list[LiveEvent]], bool]
"""Takes a batch; False means the receiver is gone and the feed should stop."""

Partition = tuple[str, int]

_LATEST = -1  # the timestamp that asks ListOffsets for a partition's end

_LIBRDKAFKA_LOGGER = logging.getLogger("librdkafka")


def consumer_config(
    bootstrap_servers: str, client_id: str, client_config: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap_servers,
        "client.id": client_id,
        "logger": _LIBRDKAFKA_LOGGER,
        # librdkafka insists on a group id, but a consumer that only assign()s never joins the
        # group, and with auto-commit off it never writes an offset to it.
        "group.id": f"tickwire-api-live.{client_id}",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "isolation.level": "read_committed",
        # An assigned offset that retention removed: carry on from the newest, never replay.
        "auto.offset.reset": "latest",
        "enable.partition.eof": False,
        # Live means soon: and a shorter long-poll also keeps the metadata and offset requests,
        # which queue behind a fetch on the broker connection, from waiting the default 500 ms.
        "fetch.wait.max.ms": 100,
        **client_config,
    }


class LiveFeed:
    """Reads `topics` (name -> kind of record) on a thread of its own until `stop()`."""

    def __init__(
        self,
        config: Mapping[str, Any],
        topics: Mapping[str, Kind],
        serde: AvroSerde,
        deliver: Deliver,
        *,
        batch_size: int = 500,
        poll_s: float = 0.2,
        refresh_s: float = 5.0,
        retry_s: float = 0.5,
        metadata_timeout_s: float = 1.0,
    ) -> None:
        self._topics = dict(topics)
        self._serde = serde
        self._deliver = deliver
        self._batch_size = batch_size
        self._poll_s = poll_s
        self._refresh_s = refresh_s
        self._retry_s = retry_s
        self._metadata_timeout_s = metadata_timeout_s
        self._stop = threading.Event()
        self._connected = False
        self._assigned: set[Partition] = set()
        self._at_start: set[Partition] | None = None
        self._missing_logged: frozenset[str] = frozenset()
        self._down_logged = False
        # Built here rather than on the thread: a bad KAFKA_CLIENT_CONFIG stops start-up.
        self._consumer = Consumer({**config, "error_cb": self._on_error})
        self._thread = threading.Thread(target=self._run, name="live-feed", daemon=True)
        FEED_CONNECTED.set(0)

    @property
    def connected(self) -> bool:
        """The brokers answer and every partition of both topics is assigned."""
        return self._connected

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Stop reading and close the consumer; True if the thread ended within `timeout_s`."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
            return not self._thread.is_alive()
        if self._thread.ident is None:  # never started: the consumer is still ours to close
            self._consumer.close()
        return True

    def _run(self) -> None:
        next_refresh = 0.0
        try:
            while not self._stop.is_set():
                try:
                    if time.monotonic() >= next_refresh:
                        complete = self._refresh()
                        next_refresh = time.monotonic() + (
                            self._refresh_s if complete else self._retry_s
                        )
                    if not self._assigned:
                        self._stop.wait(self._retry_s)
                        continue
                    messages = self._consumer.consume(self._batch_size, self._poll_s)
                    events = self._decode(messages)
                    if events and not self._deliver(events):
                        return
                except Exception:  # a bug must not end live streaming for the process' life
                    logger.exception("live feed: unexpected error; retrying")
                    self._set_connected(False)
                    self._stop.wait(1.0)
        finally:
            self._set_connected(False)
            self._consumer.close()
            logger.info("live feed stopped")

    def _refresh(self) -> bool:
        """Assign the partitions not yet assigned; True when every partition of both topics is."""
        try:
            metadata = self._consumer.list_topics(timeout=self._metadata_timeout_s)
        except KafkaException as exc:
            if not self._down_logged:  # once an outage, not at every retry
                logger.warning("live feed: the brokers do not answer: %s", exc)
                self._down_logged = True
            self._set_connected(False)
            return False
        self._down_logged = False
        found: list[Partition] = []
        missing = []
        for topic in self._topics:
            meta = metadata.topics.get(topic)
            if meta is None or meta.error is not None:
                missing.append(topic)
                continue
            found.extend((topic, partition) for partition in meta.partitions)
        if self._at_start is None:
            self._at_start = set(found)
        self._assign([p for p in found if p not in self._assigned])
        if frozenset(missing) != self._missing_logged and missing:
            logger.warning("live feed: topics not found yet: %s", ", ".join(missing))
        self._missing_logged = frozenset(missing)
        complete = not missing and all(p in self._assigned for p in found)
        self._set_connected(complete)
        return complete

    def _assign(self, partitions: list[Partition]) -> None:
        assert self._at_start is not None
        assignment = [
            TopicPartition(topic, partition, OFFSET_BEGINNING)  # created after start: all new
            for topic, partition in partitions
            if (topic, partition) not in self._at_start
        ]
        ends = [TopicPartition(t, p, _LATEST) for t, p in partitions if (t, p) in self._at_start]
        if ends:
            # One request for every partition's end (what a read-committed reader sees of it),
            # rather than a round trip each queued behind the fetches already under way.
            try:
                ends = self._consumer.offsets_for_times(ends, timeout=self._metadata_timeout_s)
            except KafkaException as exc:
                logger.info("live feed: no end offsets yet: %s", exc)
                ends = []
            for end in ends:
                if end.error is None and end.offset >= 0:
                    assignment.append(end)
                else:  # e.g. no leader yet: the next refresh tries again
                    logger.info(
                        "live feed: %s[%d] not ready: %s", end.topic, end.partition, end.error
                    )
        if assignment:
            self._consumer.incremental_assign(assignment)
            self._assigned.update((tp.topic, tp.partition) for tp in assignment)
            logger.info(
                "live feed: reading %d more partitions (%d in all)",
                len(assignment),
                len(self._assigned),
            )

    def _decode(self, messages: list[Message]) -> list[LiveEvent]:
        events = []
        for message in messages:
            topic, partition, offset = message.topic(), message.partition(), message.offset()
            error = message.error()
            if error is not None or topic is None or partition is None or offset is None:
                logger.warning("live feed: %s[%s]: %s", topic, partition, error)
                continue
            kind = self._topics[topic]
            try:
                record = self._serde.decode(kind, message.value())
                events.append(live_event(kind, topic, partition, offset, record))
            except (SerializationError, KeyError, ValueError, TypeError, OverflowError) as exc:
                RECORDS_UNDECODABLE.labels(topic).inc()
                logger.warning(
                    "live feed: skipped an undecodable record topic=%s partition=%d offset=%d: %s",
                    topic,
                    partition,
                    offset,
                    exc,
                )
        return events

    def _on_error(self, error: KafkaError) -> None:
        # Called from consume(), on the feed's own thread. librdkafka reconnects by itself.
        if error.code() == KafkaError._ALL_BROKERS_DOWN:
            self._set_connected(False)
            logger.warning("live feed: %s", error)
        else:
            logger.debug("live feed: %s", error)

    def _set_connected(self, connected: bool) -> None:
        self._connected = connected
        FEED_CONNECTED.set(1 if connected else 0)

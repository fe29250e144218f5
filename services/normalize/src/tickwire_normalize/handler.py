"""The normalize batch handler: normalize each raw record, drop the copies a second ingest instance
delivers, count everything per provider and instrument, and keep the dedup window restorable.

The copies a batch dropped leave as one dedup_tally record among the batch's outputs, so with
exactly-once on it commits in the batch's transaction: counted once, whatever is retried.
A batch that is retried (its transaction aborted, its partitions rewound) first makes the window
forget the keys its failed attempt added, so its records are not taken for copies of themselves.

Restart guarantee: every commit stores, with the partition's offset, the offset of the oldest
record the dedup window still remembers. A newly assigned partition is re-read from there up to
the committed offset with output suppressed, which rebuilds its window exactly as it was (the
window runs on receipt time, not wall time), so a restart or a rebalance lets no copy through that
would have been dropped without it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from tickwire_core.batch import Consumed, Outcome, Output, Reject, reject
from tickwire_core.clock import now_us
from tickwire_core.errors import RejectedRecord
from tickwire_core.topics import BARS, DEDUP_TALLIES, SHORT_INTEREST, SHORT_VOLUME, tick_key
from tickwire_normalize.domain.attribution import subject
from tickwire_normalize.domain.dedup import DedupWindow
from tickwire_normalize.domain.gaps import GAP_CONTENT_TYPE
from tickwire_normalize.domain.history import BAR
from tickwire_normalize.domain.history import SHORT_INTEREST as SHORT_INTEREST_KIND
from tickwire_normalize.domain.history import SHORT_VOLUME as SHORT_VOLUME_KIND
from tickwire_normalize.domain.normalize import normalize
from tickwire_normalize.domain.reads import UnmappedFields
from tickwire_normalize.domain.tallies import CopyTally
from tickwire_normalize.domain.validate import Limits
from tickwire_normalize.metrics import (
    DEDUPLICATED,
    HISTORY_TICKS,
    RAW_IN,
    RECORDS_OUT,
    REJECTED,
    TICKS_OUT,
    UNMAPPED,
    WARMUP,
    WARMUP_SKIPPED,
    WINDOW_EVICTED_EARLY,
    WINDOW_KEYS,
    BatchCounts,
)

logger = logging.getLogger(__name__)

# Where each kind of history record goes (topic names before the deployment's prefix).
RECORD_TOPICS = {BAR: BARS, SHORT_VOLUME_KIND: SHORT_VOLUME, SHORT_INTEREST_KIND: SHORT_INTEREST}

_META_PREFIX = "dedup-from="
_COMMITTED_TIMEOUT_S = 20.0


class NormalizeHandler:
    def __init__(
        self,
        output_topic: str,
        limits: Limits,
        window: DedupWindow,
        unmapped: UnmappedFields | None = None,
        record_topics: Mapping[str, str] | None = None,
        tally_topic: str = DEDUP_TALLIES,
        instance: str = "",
    ) -> None:
        """`record_topics`: kind of history record -> its topic (default: RECORD_TOPICS);
        `tally_topic`: where each batch's dedup tally goes; `instance`: this instance's id,
        named in the tallies and their key."""
        self.output_topic = output_topic
        self.record_topics = dict(record_topics or RECORD_TOPICS)
        self.tally_topic = tally_topic
        self.instance = instance
        self._tally_key = instance.encode()
        self.limits = limits
        self.window = window
        self.unmapped = unmapped  # counts in its .counts, which the heartbeat carries
        # partition -> committed offset: records below it are re-read only to rebuild the window
        self._warm_until: dict[tuple[str, int], int] = {}
        # partition -> offset after the last record handled: a batch starting below it is a retry
        self._next_offset: dict[tuple[str, int], int] = {}
        self._counts = BatchCounts()  # the metrics' increments of the batch being handled

    def __call__(self, records: list[Consumed]) -> Outcome:
        outcome = Outcome()
        self._counts = BatchCounts()  # a batch that raised midway counts nothing
        self._forget_failed_attempt(records)
        tally = CopyTally()
        for record in records:
            warming = record.offset < self._warm_until.get((record.topic, record.partition), -1)
            raw = record.value
            if warming:
                self._counts.add(WARMUP)
            else:
                self._counts.add(RAW_IN, raw.get("provider", ""), raw.get("ingest_instance", ""))
                self._check_fields(raw)
            self._handle(record, raw, outcome, warming, tally)
        if tally:
            outcome.outputs.append(
                Output(
                    self.tally_topic,
                    self._tally_key,
                    "dedup_tally",
                    tally.record(self.instance, now_us()),
                )
            )
        self._counts.publish()
        WINDOW_KEYS.set(self.window.size())
        WINDOW_EVICTED_EARLY.set(self.window.evicted_early)
        return outcome

    def _check_fields(self, raw: dict[str, Any]) -> None:
        if (
            self.unmapped is None
            or raw.get("content_type") == GAP_CONTENT_TYPE
            or raw.get("history")  # a vendor's rows, not the live venue's messages
        ):
            return
        provider = raw.get("provider") or ""
        try:
            found = self.unmapped.observe(
                provider, raw.get("feed") or "", raw["payload"], raw["received_ts"]
            )
        except Exception:  # a look at the fields must never stall the partition
            logger.warning("unmapped-field check failed provider=%s", provider, exc_info=True)
            return
        for path in found:
            self._counts.add(UNMAPPED, provider, path)

    def _forget_failed_attempt(self, records: list[Consumed]) -> None:
        """A batch that starts on a partition below where the last one ended there is that batch
        again (retried after a failure): the window forgets what the failed attempt added."""
        first: dict[tuple[str, int], int] = {}
        after: dict[tuple[str, int], int] = {}
        for record in records:
            where = (record.topic, record.partition)
            first.setdefault(where, record.offset)
            after[where] = record.offset + 1
        for where, offset in first.items():
            if offset < self._next_offset.get(where, -1):
                self.window.forget_from(where[1], offset)
        self._next_offset.update(after)

    def _handle(
        self,
        record: Consumed,
        raw: dict[str, Any],
        outcome: Outcome,
        warming: bool,
        tally: CopyTally,
    ) -> None:
        provider = raw.get("provider", "")
        try:
            result = normalize(raw, self.limits)
        except RejectedRecord as exc:
            if not warming:
                self._counts.add(REJECTED, provider, raw.get("instrument", ""), exc.reason)
                outcome.rejects.append(_rejected(record, raw, exc))
            return
        if not warming:
            for rejected in result.rejects:
                self._counts.add(REJECTED, provider, raw.get("instrument", ""), rejected.reason)
                outcome.rejects.append(_rejected(record, raw, rejected))
        counts = self._counts
        for tick in result.ticks:
            key = f"{tick['instrument']}|{tick['kind']}|{tick['dedup_key']}"
            first = self.window.first_sighting(
                record.partition, key, tick["received_ts"], record.offset
            )
            if warming:
                continue
            if not first:
                counts.add(DEDUPLICATED, provider, tick["instrument"], tick["ingest_instance"])
                tally.add(tick)
                continue
            counts.add(TICKS_OUT, provider, tick["instrument"], tick["kind"])
            if tick.get("history"):
                counts.add(HISTORY_TICKS, provider)
            outcome.outputs.append(
                Output(self.output_topic, tick_key(provider, tick["instrument"]), "tick", tick)
            )
        if warming:
            return  # history records are kept by their natural keys, not by the window
        for mapped in result.records:
            self._counts.add(RECORDS_OUT, provider, mapped.kind)
            outcome.outputs.append(
                Output(
                    self.record_topics[mapped.kind],
                    tick_key(mapped.record["provider"], mapped.record["instrument"]),
                    mapped.kind,
                    mapped.record,
                )
            )

    def commit_position(
        self, topic: str, partition: int, next_offset: int
    ) -> tuple[int, str | None] | None:
        warm_until = self._warm_until.get((topic, partition))
        if warm_until is not None and next_offset <= warm_until:
            return None  # still re-reading: the committed offset must not move back
        # The mark stays until the partition goes: this commit may fail, and its batch, read
        # again, must still find its records below the mark re-read, not new.
        oldest = self.window.oldest_offset(partition)
        return next_offset, None if oldest is None else f"{_META_PREFIX}{oldest}"

    def on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        try:
            committed = consumer.committed(partitions, timeout=_COMMITTED_TIMEOUT_S)
        except KafkaException as exc:
            # Offsets stay unreadable while a transaction of a predecessor is unresolved (after a
            # broker crash mid-commit, until the broker finishes or times it out). The partitions
            # then start with an empty window: copies arriving right after this restart may pass
            # here (the sink's natural key still stores one row). Counted, never a stall.
            WARMUP_SKIPPED.inc()
            logger.warning("dedup window not rebuilt, committed offsets unavailable: %s", exc)
            for tp in partitions:
                self.window.drop(tp.partition)
                self._next_offset.pop((tp.topic, tp.partition), None)
            return
        for tp in committed:
            self.window.drop(tp.partition)
            self._next_offset.pop((tp.topic, tp.partition), None)
            start = _dedup_start(tp.metadata)
            if tp.offset < 0 or start is None or start >= tp.offset:
                continue
            self._warm_until[(tp.topic, tp.partition)] = tp.offset
            for target in partitions:
                if (target.topic, target.partition) == (tp.topic, tp.partition):
                    target.offset = start
            logger.info(
                "rebuilding dedup window of %s[%d] from offset %d to %d",
                tp.topic,
                tp.partition,
                start,
                tp.offset,
            )

    def on_revoke(self, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self.window.drop(tp.partition)
            self._warm_until.pop((tp.topic, tp.partition), None)
            self._next_offset.pop((tp.topic, tp.partition), None)


def _dedup_start(metadata: str | None) -> int | None:
    if not metadata or not metadata.startswith(_META_PREFIX):
        return None
    try:
        return int(metadata.removeprefix(_META_PREFIX))
    except ValueError:
        return None


def _rejected(record: Consumed, raw: dict[str, Any], exc: RejectedRecord) -> Reject:
    about = subject(exc, raw)
    return reject(
        record,
        exc.reason,
        exc.message,
        provider=about.provider,
        instrument=about.instrument,
        event_ts=about.event_ts,
    )

"""RawSink onto Kafka: wraps venue messages in the raw envelope and produces them. When Kafka
cannot keep up, a message waits up to max_block for room; one that still finds none is not kept,
and the stretch of such messages is published as a backpressure gap event as soon as there is room
again, so every loss is explicit and counted."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

from prometheus_client import Counter

from tickwire_core.heartbeat import LoopStats
from tickwire_core.publisher import Publisher
from tickwire_core.topics import tick_key
from tickwire_ingest.domain.events import (
    BACKPRESSURE,
    GAP_CONTENT_TYPE,
    GAP_FEED,
    Gap,
    VenueMessage,
)
from tickwire_ingest.domain.raw import Envelope

logger = logging.getLogger(__name__)

PUBLISHED = Counter(
    "tickwire_ingest_messages_total", "Venue messages queued for Kafka", ["provider", "feed"]
)
GAPS = Counter("tickwire_ingest_gaps_total", "Gap events published", ["provider", "reason"])
LOST = Counter(
    "tickwire_ingest_backpressure_lost_total",
    "Messages not kept because Kafka had no room within max_block",
    ["provider"],
)


@dataclass
class _Loss:
    provider: str
    start_ts: int
    end_ts: int
    count: int


class KafkaRawSink:
    def __init__(
        self, publisher: Publisher, topic: str, envelope: Envelope, max_block_s: float
    ) -> None:
        self.publisher = publisher
        self.topic = topic
        self.envelope = envelope
        self.max_block_s = max_block_s
        self._losses: dict[str, _Loss] = {}  # instrument -> the stretch not kept so far
        self._pending: deque[tuple[Gap, str]] = deque()
        # The heartbeat's counters: messages in, records queued, messages lost to backpressure
        # (each of them inside a published gap); the last gap is the last error.
        self.stats = LoopStats()

    def publish(self, message: VenueMessage) -> None:
        provider = message.provider or self.envelope.provider
        self.stats.rows_in += 1
        if self._pending:
            self._send_pending(0.0)
        if self._losses and not self._pending:
            self._report_losses(0.0)
        record = self.envelope.wrap(
            message.feed,
            message.instrument,
            message.payload,
            message.received_ts,
            provider=provider,
            content_type=message.content_type,
        )
        value = self.publisher.serde.encode("raw_tick", record)
        key = tick_key(provider, message.instrument)
        if self.publisher.send_bytes(self.topic, key, value, max_block_s=self.max_block_s):
            PUBLISHED.labels(provider, message.feed).inc()
            self.stats.rows_out += 1
            return
        self.envelope.next_seq -= 1  # not published: ingest_seq stays gapless on the topic
        LOST.labels(provider).inc()
        self.stats.rows_refused += 1
        loss = self._losses.get(message.instrument)
        if loss is None:
            self._losses[message.instrument] = _Loss(
                provider, message.received_ts, message.received_ts, 1
            )
        else:
            loss.end_ts = max(loss.end_ts, message.received_ts)
            loss.count += 1

    def gap(self, gap: Gap, provider: str | None = None) -> None:
        """Gap events are never dropped: one that finds no room waits in a queue (small: one
        entry per gap, and gaps are rare) and goes out before the next message."""
        self._pending.append((gap, provider or self.envelope.provider))
        self._send_pending(self.max_block_s)

    def _send_pending(self, max_block_s: float | None) -> None:
        while self._pending:
            gap, provider = self._pending[0]
            record = self.envelope.wrap(
                GAP_FEED,
                gap.instrument,
                gap.payload(),
                gap.end_ts,
                provider=provider,
                content_type=GAP_CONTENT_TYPE,
            )
            value = self.publisher.serde.encode("raw_tick", record)
            key = tick_key(provider, gap.instrument)
            if not self.publisher.send_bytes(self.topic, key, value, max_block_s=max_block_s):
                self.envelope.next_seq -= 1  # not published: its number goes to the next record
                return
            self._pending.popleft()
            GAPS.labels(provider, gap.reason).inc()
            self.stats.rows_out += 1
            self.stats.last_error = f"gap {gap.reason} {provider} {gap.instrument}: {gap.detail}"
            self.stats.last_error_ts = gap.end_ts
            logger.warning(
                "gap provider=%s instrument=%s reason=%s lost=%s %s",
                provider,
                gap.instrument,
                gap.reason,
                gap.lost,
                gap.detail,
            )

    def _report_losses(self, max_block_s: float | None) -> None:
        """Publish each instrument's stretch of lost messages as one gap, while there is room;
        a stretch that finds none keeps growing until there is."""
        for instrument, loss in list(self._losses.items()):
            gap = Gap(
                instrument=instrument,
                reason=BACKPRESSURE,
                start_ts=loss.start_ts,
                end_ts=loss.end_ts,
                lost=loss.count,
                detail=f"{loss.count} messages found no room in the producer queue",
            )
            self._pending.append((gap, loss.provider))
            self._send_pending(max_block_s)
            if self._pending:  # still no room: take it back and keep counting
                self._pending.pop()
                return
            del self._losses[instrument]

    def flush(self) -> None:
        """Wait until everything, pending gap events included, is acknowledged (or raise)."""
        self._send_pending(None)
        self._report_losses(None)
        self.publisher.flush()

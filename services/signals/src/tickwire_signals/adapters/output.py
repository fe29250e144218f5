"""Where a batch's results go: anomalies, bars and signals to their topics, undecodable input to
the dead-letter topic, all through librdkafka (not faust's producer)."""

from __future__ import annotations

from collections.abc import Mapping

from tickwire_core.clock import now_us
from tickwire_core.publisher import Publisher
from tickwire_signals.handler import BatchResult, TickEvent


class SignalsOutput:
    """Sending is per record, and librdkafka queues a record in about a microsecond where an
    awaited faust send costs tens of them."""

    def __init__(
        self,
        publisher: Publisher,
        topics: Mapping[str, str],
        dead_letter_topic: str,
        source_topic: str,
    ) -> None:
        """`topics`: output schema (anomaly, bar, signal) -> its topic; `source_topic`: the
        ticks topic, named in dead letters."""
        self.publisher = publisher
        self.topics = dict(topics)
        self.dead_letter_topic = dead_letter_topic
        self.source_topic = source_topic

    def send(self, result: BatchResult) -> None:
        """Queue the batch's records and dead letters; flush() makes them durable."""
        emitted = result.emitted
        for schema, records in (
            ("anomaly", emitted.anomalies),
            ("bar", emitted.bars),
            ("signal", emitted.signals),
        ):
            topic = self.topics[schema]
            for record in records:
                key = f"{record['provider']}|{record['instrument']}".encode()
                self.publisher.send(topic, key, schema, record)
        for event, reason in result.undecodable:
            self.publisher.send(
                self.dead_letter_topic, event.key, "dead_letter", self._dead_letter(event, reason)
            )

    def flush(self) -> None:
        self.publisher.flush()

    def _dead_letter(self, event: TickEvent, reason: str) -> dict[str, object]:
        return {
            "reason": "undecodable",
            "message": reason,
            "service": "signals",
            "source_topic": self.source_topic,
            "source_partition": event.partition,
            "source_offset": event.offset,
            "source_key": event.key,
            "payload": event.value or b"",
            "rejected_ts": now_us(),
        }

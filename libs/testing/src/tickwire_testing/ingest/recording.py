"""An in-memory RawSink for tests of connectors: it keeps every message and gap it is given, in
order, so a test can check exactly what would have reached Kafka."""

from __future__ import annotations

from dataclasses import dataclass, field

from tickwire_ingest.domain.events import Gap, VenueMessage


@dataclass
class RecordingSink:
    messages: list[VenueMessage] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    # Messages and gaps in the order they were published.
    events: list[VenueMessage | Gap] = field(default_factory=list)

    def publish(self, message: VenueMessage) -> None:
        self.messages.append(message)
        self.events.append(message)

    def gap(self, gap: Gap) -> None:
        self.gaps.append(gap)
        self.events.append(gap)

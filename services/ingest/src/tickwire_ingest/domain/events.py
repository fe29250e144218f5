"""What a connector hands to the pipeline: venue messages exactly as received, and explicit gap
events for every stretch of data it knows it lost (disconnects, sequence jumps, backpressure)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

GAP_FEED = "gap"
GAP_CONTENT_TYPE = "application/vnd.tickwire.gap+json"

# Why a stretch of data is missing; the reason travels in the gap event.
DISCONNECT = "disconnect"  # the connection dropped or was replaced; nothing received in between
STALE = "stale"  # nothing arrived within the stale timeout, so the connection was recycled
SEQUENCE = "sequence"  # the venue's sequence number jumped
BACKPRESSURE = "backpressure"  # Kafka could not take the messages in time; they were not kept
SILENCE = "silence"  # injected by the simulator's fault model


@dataclass(frozen=True, slots=True)
class VenueMessage:
    """One frame (or one venue message within a frame) to publish unchanged."""

    feed: str  # the venue's channel: ticker, bookTicker, aggTrade, market_trades, ...
    instrument: str  # the venue's own instrument name, used as the record key
    payload: bytes  # the bytes as received
    received_ts: int  # UTC microseconds
    provider: str | None = None  # None: the connector's own; replay files name it per message
    content_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class Gap:
    """Data of `instrument` between `start_ts` and `end_ts` (UTC microseconds) is missing."""

    instrument: str
    reason: str
    start_ts: int  # receipt time of the last message before the gap (or when it was noticed)
    end_ts: int  # receipt time of the first message after it (or when it was noticed)
    expected_seq: int | None = None
    received_seq: int | None = None
    lost: int | None = None  # messages known to be missing, where countable
    detail: str = ""

    def payload(self) -> bytes:
        body = {
            "instrument": self.instrument,
            "reason": self.reason,
            "start_ts": self.start_ts,
            "end_ts": self.end_ts,
            "expected_seq": self.expected_seq,
            "received_seq": self.received_seq,
            "lost": self.lost,
            "detail": self.detail,
        }
        return json.dumps(body, separators=(",", ":")).encode()


class RawSink(Protocol):
    """Where connectors put what they receive. `publish` may block briefly when Kafka is behind;
    whatever it cannot keep becomes a counted backpressure gap, never a silent loss."""

    def publish(self, message: VenueMessage) -> None: ...

    def gap(self, gap: Gap) -> None: ...

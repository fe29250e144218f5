"""What the WebSocket connections count, per provider: Prometheus metrics for /metrics, and the
same counts per connection in plain form for health checks, logs and tests."""

from __future__ import annotations

from collections import Counter as Tally

from prometheus_client import Counter, Gauge

FRAMES = Counter("tickwire_ingest_ws_frames_total", "WebSocket frames received", ["provider"])
MESSAGES = Counter(
    "tickwire_ingest_ws_messages_total",
    "Venue messages received and handed to the sink",
    ["provider"],
)
DUPLICATES = Counter(
    "tickwire_ingest_ws_duplicates_total", "Venue messages dropped as repeats", ["provider"]
)
MALFORMED = Counter(
    "tickwire_ingest_ws_malformed_total", "Frames that could not be understood", ["provider"]
)
ERRORS = Counter(
    "tickwire_ingest_ws_errors_total",
    "Venue error answers and connection failures",
    ["provider", "kind"],
)
GAPS = Counter(
    "tickwire_ingest_ws_gaps_total", "Gap events raised by the connections", ["provider", "reason"]
)
RECONNECTS = Counter(
    "tickwire_ingest_ws_reconnects_total", "Connections replaced", ["provider", "reason"]
)
CONNECTIONS = Gauge("tickwire_ingest_ws_connections", "Open venue connections", ["provider"])

# Kinds of error, the `kind` label.
VENUE = "venue"  # the venue answered a request with an error (bad instrument, rate limit)
CONNECT = "connect"  # the connection or its handshake failed
RATE_LIMITED = "rate_limited"  # the handshake was refused with 429 or 418
SESSION = "session"  # the protocol code raised on a frame (a bug; the frame is skipped)
SEND = "send"  # a frame could not be sent because the connection was closing


class ConnectionStats:
    """Counts of one plan's connection; every count also goes to the provider's metrics."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.counts: Tally[str] = Tally()

    def __getitem__(self, name: str) -> int:
        return self.counts[name]

    def frame(self) -> None:
        self.counts["frames"] += 1
        FRAMES.labels(self.provider).inc()

    def messages(self, n: int) -> None:
        self.counts["messages"] += n
        MESSAGES.labels(self.provider).inc(n)

    def duplicates(self, n: int) -> None:
        self.counts["duplicates"] += n
        DUPLICATES.labels(self.provider).inc(n)

    def malformed(self) -> int:
        self.counts["malformed"] += 1
        MALFORMED.labels(self.provider).inc()
        return self.counts["malformed"]

    def error(self, kind: str) -> int:
        self.counts[f"errors.{kind}"] += 1
        ERRORS.labels(self.provider, kind).inc()
        return self.counts[f"errors.{kind}"]

    def gap(self, reason: str) -> None:
        self.counts[f"gaps.{reason}"] += 1
        GAPS.labels(self.provider, reason).inc()

    def reconnect(self, reason: str) -> None:
        self.counts[f"reconnects.{reason}"] += 1
        RECONNECTS.labels(self.provider, reason).inc()

    def opened(self) -> None:
        self.counts["connections"] += 1
        CONNECTIONS.labels(self.provider).inc()

    def closed(self) -> None:
        CONNECTIONS.labels(self.provider).dec()


def worth_logging(count: int) -> bool:
    """Log the first few of a repeated problem, then ever more rarely (1..10, 16, 32, 64, ...), so
    a venue that floods us with bad frames cannot flood the log."""
    return count <= 10 or count & (count - 1) == 0

"""The contract between the shared WebSocket connection manager and a venue's protocol.

A `Venue` says where to connect and how to split the subscription across connections; for each
connection it makes a fresh `Session`, which is pure: it turns received text frames into venue
messages, replies, gaps and liveness, and says what to send on open and on a timer. All socket,
timing and reconnect behaviour lives in the connection manager (adapters/connection.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from tickwire_ingest.domain.events import Gap, VenueMessage


@dataclass
class Inbound:
    """What one received frame means."""

    messages: list[VenueMessage] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)  # frames to send back at once
    gaps: list[Gap] = field(default_factory=list)
    # Any frame proves the socket is alive; this marks a venue heartbeat in particular.
    heartbeat: bool = False
    subscribed: list[str] = field(default_factory=list)  # channels the venue confirmed
    errors: list[str] = field(default_factory=list)  # venue error answers, e.g. a bad instrument
    # The venue asked us to slow down: close and wait at least this long before reconnecting.
    retry_after_s: float | None = None
    # The venue says this connection is finished (e.g. a planned maintenance close).
    reconnect: bool = False
    # A frame that could not be understood; published nowhere, counted and logged with a sample.
    malformed: str | None = None
    # Venue messages recognised as repeats of ones already published (by their sequence numbers);
    # dropped rather than published twice, and counted.
    duplicates: int = 0


def json_object(text: str) -> tuple[dict[str, Any], bytes] | Inbound:
    """A frame read as a JSON object, with the bytes to publish it as; or, when it is none, the
    Inbound of a malformed frame, which publishes nothing."""
    try:
        payload = text.encode()  # a lone surrogate cannot be published: malformed too
        frame = json.loads(text)
    except (ValueError, RecursionError, UnicodeError):  # RecursionError: nested too deep
        return Inbound(malformed="not JSON")
    if not isinstance(frame, dict):
        return Inbound(malformed="not a JSON object")
    return frame, payload


@dataclass(frozen=True)
class ConnectionPlan:
    """One connection: its URL and the instruments it carries."""

    url: str
    instruments: tuple[str, ...]
    # WebSocket subprotocols to offer in the handshake (Lightstreamer picks its version from it).
    subprotocols: tuple[str, ...] = ()


class Session(Protocol):
    """State of one live connection (subscriptions, per-connection sequence numbers)."""

    def on_open(self, now_us: int) -> list[str]:
        """Frames to send right after connecting: heartbeat set-up, subscriptions."""
        ...

    def on_frame(self, text: str, received_ts: int) -> Inbound: ...

    def on_timer(self, now_us: int) -> list[str]:
        """Called about once a second; frames to send (client pings), usually none."""
        ...


class Venue(Protocol):
    provider: str
    # No frame at all for this long means the connection is dead: recycle it. Heartbeats count,
    # so a quiet instrument on a live connection never trips it.
    stale_after_s: float
    # Reconnect on our own terms before the venue's hard cut-off (Binance: 24 h); None = never.
    max_connection_age_s: float | None

    def plan(self) -> list[ConnectionPlan]: ...

    def session(self, plan: ConnectionPlan) -> Session:
        """A fresh session for a new connection. Venue-wide state that must survive reconnects
        (e.g. the last trade id per instrument, to measure what a disconnect lost) lives on the
        Venue and is shared with the sessions it makes."""
        ...

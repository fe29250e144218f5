"""Coinbase Advanced Trade market-data WebSocket: subscribe frames out; ticker and trade frames,
heartbeats, acks, errors and per-connection sequence gaps in."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from typing import Any

from tickwire_ingest.domain.events import Gap, VenueMessage
from tickwire_ingest.domain.protocol import ConnectionPlan, Inbound, json_object
from tickwire_ingest.domain.sequence import SequenceTracker

PROVIDER = "coinbase"
DEFAULT_URL = "wss://advanced-trade-ws.coinbase.com"
HEARTBEATS = "heartbeats"
SUBSCRIPTIONS = "subscriptions"
# Heartbeats arrive every second, so ten silent seconds mean a dead connection.
DEFAULT_STALE_AFTER_S = 10.0
# Coinbase names no wait in its rate-limit errors; connections are limited per IP per few seconds.
RATE_LIMIT_BACKOFF_S = 5.0

_RATE_LIMITED = re.compile(r"rate.?limit|too many", re.IGNORECASE)
_CONNECTION_KEY = "connection"


def subscribe_frames(channels: tuple[str, ...], product_ids: tuple[str, ...]) -> list[str]:
    """One subscribe per channel (Coinbase takes one channel per message), then heartbeats, which
    keep quiet channels from being closed after a minute or so and need no products."""
    frames = [
        json.dumps({"type": "subscribe", "product_ids": list(product_ids), "channel": channel})
        for channel in channels
        if channel != HEARTBEATS
    ]
    frames.append(json.dumps({"type": "subscribe", "channel": HEARTBEATS}))
    return frames


def first_product_id(events: list[Any]) -> str | None:
    """The first product id in a frame's events, whichever list carries it (tickers, trades,
    candles) or on the event itself (level2); None when the frame names no product."""
    for event in events:
        if not isinstance(event, dict):
            continue
        product = event.get("product_id")
        if isinstance(product, str):
            return product
        for value in event.values():
            if not isinstance(value, list):
                continue
            for entry in value:
                if isinstance(entry, dict) and isinstance(entry.get("product_id"), str):
                    return str(entry["product_id"])
    return None


def _error_text(frame: dict[str, Any]) -> str:
    parts = [str(frame[key]) for key in ("message", "reason") if frame.get(key)]
    return ": ".join(parts) or "error without message"


@dataclass
class CoinbaseSession:
    """One connection. Its `sequence_num` numbers every message the connection carries, whatever
    the channel or product, so a jump cannot be pinned to one instrument: the gap is published
    once for every instrument of the connection. Ticker and trade frames are published once,
    unchanged, keyed by their first product id; a frame can carry several products, and the
    normalize mapping reads all of them from the payload. A data frame whose number was already
    seen is a repeat: dropped and counted."""

    instruments: tuple[str, ...]
    channels: tuple[str, ...]
    sequence: SequenceTracker = field(default_factory=SequenceTracker)

    def on_open(self, now_us: int) -> list[str]:
        return subscribe_frames(self.channels, self.instruments)

    def on_timer(self, now_us: int) -> list[str]:
        return []

    def on_frame(self, text: str, received_ts: int) -> Inbound:
        read = json_object(text)
        if isinstance(read, Inbound):
            return read
        frame, payload = read
        if frame.get("type") == "error":
            message = _error_text(frame)
            retry = RATE_LIMIT_BACKOFF_S if _RATE_LIMITED.search(message) else None
            return Inbound(errors=[message], retry_after_s=retry)
        channel = frame.get("channel")
        events = frame.get("events")
        seq = frame.get("sequence_num")
        if not isinstance(channel, str) or not isinstance(events, list):
            return Inbound(malformed="no channel or events")
        if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool)):
            return Inbound(malformed="sequence_num is not an integer")
        inbound = Inbound()
        is_new = True
        if seq is not None:
            is_new, inbound.gaps = self._check(seq, received_ts)
        if channel == HEARTBEATS:
            inbound.heartbeat = True
        elif channel == SUBSCRIPTIONS:
            inbound.subscribed = _subscribed_channels(events)
        elif channel in self.channels:
            product = first_product_id(events)  # None e.g. for an empty trades update
            if product is not None and is_new:
                inbound.messages.append(VenueMessage(channel, product, payload, received_ts))
            elif product is not None:
                inbound.duplicates = 1
        return inbound

    def _check(self, seq: int, received_ts: int) -> tuple[bool, list[Gap]]:
        is_new, gap = self.sequence.check(_CONNECTION_KEY, seq, received_ts)
        if gap is None:
            return is_new, []
        detail = f"connection sequence_num: expected {gap.expected_seq}, got {seq}"
        return is_new, [
            dataclasses.replace(gap, instrument=name, detail=detail) for name in self.instruments
        ]


def _subscribed_channels(events: list[Any]) -> list[str]:
    channels: list[str] = []
    for event in events:
        subscriptions = event.get("subscriptions") if isinstance(event, dict) else None
        if not isinstance(subscriptions, dict):
            continue
        for name in map(str, subscriptions):
            if name not in channels:
                channels.append(name)
    return channels


@dataclass
class CoinbaseVenue:
    """All instruments on one connection; a new connection starts a new sequence count."""

    url: str
    instruments: tuple[str, ...]
    channels: tuple[str, ...]
    stale_after_s: float = DEFAULT_STALE_AFTER_S
    max_connection_age_s: float | None = None
    provider: str = PROVIDER

    def plan(self) -> list[ConnectionPlan]:
        return [ConnectionPlan(self.url, self.instruments)]

    def session(self, plan: ConnectionPlan) -> CoinbaseSession:
        return CoinbaseSession(plan.instruments, self.channels)

"""Kraken spot WebSocket v2: subscribe and ping frames out; ticker and trade frames, heartbeats,
acks, errors and per-symbol trade-id gaps in."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from tickwire_ingest.domain.events import Gap, VenueMessage
from tickwire_ingest.domain.protocol import ConnectionPlan, Inbound, json_object
from tickwire_ingest.domain.sequence import SequenceTracker

PROVIDER = "kraken"
DEFAULT_URL = "wss://ws.kraken.com/v2"
TRADE = "trade"
HEARTBEAT = "heartbeat"
STATUS = "status"
# Kraken sends a heartbeat every second when a subscribed channel is quiet.
DEFAULT_STALE_AFTER_S = 10.0
# Kraken names no wait when it refuses for rate; pause long enough for its counters to decay.
RATE_LIMIT_BACKOFF_S = 10.0
# Heartbeats only prove the venue-to-us direction; a ping now and then proves ours too.
PING_EVERY_S = 30.0

_RATE_LIMITED = re.compile(r"rate.?limit|exceeded msg rate|too many", re.IGNORECASE)


def subscribe_frame(channel: str, symbols: tuple[str, ...]) -> str:
    params: dict[str, Any] = {"channel": channel, "symbol": list(symbols)}
    if channel == TRADE:
        # Kraken replays the latest trades on request: after a reconnect this refills what the
        # gap lost, as far as it reaches, and the trade ids show what is still missing.
        params["snapshot"] = True
    return json.dumps({"method": "subscribe", "params": params})


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class KrakenSession:
    """One connection. Trade ids run contiguously per symbol across connections, so the tracker
    comes from the Venue and a reconnect's loss shows as a gap on the first trade after it. A
    trade frame with only ids already seen (a snapshot replaying what was published) is a repeat:
    dropped and counted; one with some new trades is published whole, as received."""

    instruments: tuple[str, ...]
    channels: tuple[str, ...]
    trade_ids: SequenceTracker
    ping_every_us: int = int(PING_EVERY_S * 1_000_000)
    _next_ping_us: int | None = field(default=None, init=False)
    _next_req_id: int = field(default=1, init=False)

    def on_open(self, now_us: int) -> list[str]:
        self._next_ping_us = now_us + self.ping_every_us
        return [subscribe_frame(channel, self.instruments) for channel in self.channels]

    def on_timer(self, now_us: int) -> list[str]:
        if self._next_ping_us is None or now_us < self._next_ping_us:
            return []
        self._next_ping_us = now_us + self.ping_every_us
        req_id, self._next_req_id = self._next_req_id, self._next_req_id + 1
        return [json.dumps({"method": "ping", "req_id": req_id})]

    def on_frame(self, text: str, received_ts: int) -> Inbound:
        read = json_object(text)
        if isinstance(read, Inbound):
            return read
        frame, payload = read
        if "method" in frame or "error" in frame:
            return _answer(frame)
        channel = frame.get("channel")
        if not isinstance(channel, str):
            return Inbound(malformed="neither a method answer nor a channel")
        if channel == HEARTBEAT:
            return Inbound(heartbeat=True)
        if channel not in self.channels:
            return Inbound()  # status and anything else not subscribed is informative only
        data = frame.get("data")
        if not isinstance(data, list) or not all(
            isinstance(entry, dict) and isinstance(entry.get("symbol"), str) for entry in data
        ):
            return Inbound(malformed="data is not a list of entries with a symbol")
        inbound = Inbound()
        if channel == TRADE:
            if not all(_is_int(entry.get("trade_id")) for entry in data):
                return Inbound(malformed="trade without an integer trade_id")
            any_new, inbound.gaps = self._check_trades(data, received_ts)
            if data and not any_new:
                inbound.duplicates = 1
                return inbound
        if data:  # an empty snapshot carries nothing to publish
            symbol = str(data[0]["symbol"])
            inbound.messages.append(VenueMessage(channel, symbol, payload, received_ts))
        return inbound

    def _check_trades(
        self, trades: list[dict[str, Any]], received_ts: int
    ) -> tuple[bool, list[Gap]]:
        """(any trade new, gaps before the new ones)."""
        any_new, gaps = False, []
        # Sorted so that a snapshot listed newest first is not mistaken for a jump.
        for trade in sorted(trades, key=lambda entry: int(entry["trade_id"])):
            symbol, trade_id = str(trade["symbol"]), int(trade["trade_id"])
            is_new, gap = self.trade_ids.check(symbol, trade_id, received_ts)
            any_new = any_new or is_new
            if gap is not None:
                gaps.append(gap)
        return any_new, gaps


def _answer(frame: dict[str, Any]) -> Inbound:
    """A reply to one of our requests: subscribe acks (one per symbol), pongs, errors."""
    error = frame.get("error")
    if frame.get("success") is False or error:
        message = str(error or "request failed")
        symbol = frame.get("symbol")
        if isinstance(symbol, str):
            message = f"{message} ({symbol})"
        retry = RATE_LIMIT_BACKOFF_S if _RATE_LIMITED.search(message) else None
        return Inbound(errors=[message], retry_after_s=retry)
    result = frame.get("result")
    if frame.get("method") == "subscribe" and isinstance(result, dict):
        channel = result.get("channel")
        if isinstance(channel, str):
            return Inbound(subscribed=[channel])
    return Inbound()


@dataclass
class KrakenVenue:
    """All symbols on one connection; trade ids are remembered across its reconnects."""

    url: str
    instruments: tuple[str, ...]
    channels: tuple[str, ...]
    stale_after_s: float = DEFAULT_STALE_AFTER_S
    max_connection_age_s: float | None = None
    provider: str = PROVIDER
    trade_ids: SequenceTracker = field(default_factory=SequenceTracker)

    def plan(self) -> list[ConnectionPlan]:
        return [ConnectionPlan(self.url, self.instruments)]

    def session(self, plan: ConnectionPlan) -> KrakenSession:
        return KrakenSession(plan.instruments, self.channels, self.trade_ids)

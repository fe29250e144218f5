"""Mapping of Coinbase Advanced Trade WebSocket ticker and market_trades frames (as received) to
ticks: one per ticker ("ticker") and one per trade ("trade")."""

from __future__ import annotations

from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons, symbols
from tickwire_normalize.domain.reads import not_mapped
from tickwire_normalize.domain.values import (
    TIME_NOT_IDENTITY,
    decimal_field,
    id_field,
    objects_field,
    present,
    rfc3339_field,
    shown,
    side_field,
    str_field,
)

PROVIDER = "coinbase"

_TICKER_CHANNELS = ("ticker", "ticker_batch")  # the same ticker objects, batched or not
_TRADES_CHANNEL = "market_trades"


symbol = symbols.spot_pairs(symbols.separated_by("-"))  # product ids are BASE-QUOTE already


def map_message(_feed: str, message: Any, _received_ts: int) -> list[dict[str, Any]]:
    if not isinstance(message, dict):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "payload is not a JSON object")
    channel = message.get("channel")
    # sequence_num counts per connection: no identity of an update (docs/mappings.md)
    not_mapped(message, "client_id", "sequence_num")
    if channel in _TICKER_CHANNELS:
        # A ticker has no time of its own; the frame's is when this connection was sent it, so
        # two connections may stamp one update differently (sequence_num is per connection too).
        sent_ts = rfc3339_field(message, "timestamp")
        return [
            _ticker(ticker, sent_ts)
            for event in _events(message)
            for ticker in objects_field(event, "tickers")
        ]
    if channel == _TRADES_CHANNEL:
        not_mapped(message, "timestamp")  # each trade has its own time
        return [
            _trade(trade) for event in _events(message) for trade in objects_field(event, "trades")
        ]
    raise RejectedRecord(reasons.UNKNOWN_MESSAGE, f"coinbase channel {shown(channel)}")


def _events(message: dict[str, Any]) -> list[dict[str, Any]]:
    events = objects_field(message, "events")
    for event in events:
        not_mapped(event, "type")  # snapshot and update map alike
    return events


def _ticker(ticker: dict[str, Any], sent_ts: int | None) -> dict[str, Any]:
    not_mapped(ticker, "type", "low_52_w", "high_52_w")
    return present(
        {
            "kind": "ticker",
            "venue_instrument": str_field(ticker, "product_id"),
            "exchange_ts": sent_ts,
            "last_traded_price": decimal_field(ticker, "price"),
            "bid_price": decimal_field(ticker, "best_bid"),
            "bid_amount": decimal_field(ticker, "best_bid_quantity"),
            "ask_price": decimal_field(ticker, "best_ask"),
            "ask_amount": decimal_field(ticker, "best_ask_quantity"),
            "volume_24h": decimal_field(ticker, "volume_24_h"),
            "high_24h": decimal_field(ticker, "high_24_h"),
            "low_24h": decimal_field(ticker, "low_24_h"),
            "price_percent_change_24h": decimal_field(ticker, "price_percent_chg_24_h"),
            TIME_NOT_IDENTITY: True,
        }
    )


def _trade(trade: dict[str, Any]) -> dict[str, Any]:
    return present(
        {
            "kind": "trade",
            "venue_instrument": str_field(trade, "product_id"),
            "exchange_ts": rfc3339_field(trade, "time"),
            "trade_id": id_field(trade, "trade_id"),
            "last_traded_price": decimal_field(trade, "price"),
            "last_traded_volume": decimal_field(trade, "size"),
            # Taken as the taker's side: the Advanced Trade docs give BUY/SELL without saying
            # whose, unlike the older Exchange API, whose trades carry the maker's side
            # (see docs/mappings.md).
            "side": side_field(trade, "side"),
        }
    )

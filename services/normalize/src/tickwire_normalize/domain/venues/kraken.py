"""Mapping of Kraken spot WebSocket v2 ticker and trade frames (as received) to ticks: one per
ticker ("ticker") and one per trade ("trade")."""

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

PROVIDER = "kraken"


symbol = symbols.spot_pairs(symbols.separated_by("/"))  # BTC/USD -> BTC-USD


def map_message(_feed: str, message: Any, received_ts: int) -> list[dict[str, Any]]:
    if not isinstance(message, dict):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "payload is not a JSON object")
    channel = message.get("channel")
    if channel == "ticker":
        snapshot = message.get("type") == "snapshot"
        return [_ticker(item, received_ts, snapshot) for item in objects_field(message, "data")]
    if channel == "trade":
        not_mapped(message, "type")  # snapshot and update trades map alike
        return [_trade(item) for item in objects_field(message, "data")]
    raise RejectedRecord(reasons.UNKNOWN_MESSAGE, f"kraken channel {shown(channel)}")


def _ticker(ticker: dict[str, Any], received_ts: int, snapshot: bool) -> dict[str, Any]:
    # Tickers of the v2 docs' first version carry no time: receipt time stands in. Later ones
    # carry the update's time; a snapshot's may be when it was made for this connection.
    venue_time = rfc3339_field(ticker, "timestamp")
    time_not_identity = venue_time is None or snapshot
    not_mapped(ticker, "vwap", "change")  # no place in a tick
    return present(
        {
            "kind": "ticker",
            "venue_instrument": str_field(ticker, "symbol"),
            "exchange_ts": received_ts if venue_time is None else venue_time,
            "bid_price": decimal_field(ticker, "bid"),
            "bid_amount": decimal_field(ticker, "bid_qty"),
            "ask_price": decimal_field(ticker, "ask"),
            "ask_amount": decimal_field(ticker, "ask_qty"),
            "last_traded_price": decimal_field(ticker, "last"),
            "volume_24h": decimal_field(ticker, "volume"),
            "high_24h": decimal_field(ticker, "high"),
            "low_24h": decimal_field(ticker, "low"),
            "price_percent_change_24h": decimal_field(ticker, "change_pct"),
            TIME_NOT_IDENTITY: True if time_not_identity else None,
        }
    )


def _trade(trade: dict[str, Any]) -> dict[str, Any]:
    not_mapped(trade, "ord_type")
    return present(
        {
            "kind": "trade",
            "venue_instrument": str_field(trade, "symbol"),
            "exchange_ts": rfc3339_field(trade, "timestamp"),
            "trade_id": id_field(trade, "trade_id"),
            "last_traded_price": decimal_field(trade, "price"),
            "last_traded_volume": decimal_field(trade, "qty"),
            "side": side_field(trade, "side"),  # the taker's
        }
    )

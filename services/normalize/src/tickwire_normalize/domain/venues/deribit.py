"""Mapping of Deribit's ticker.{instrument}.{interval} notifications (JSON-RPC frames as received)
to ticks of kind "ticker", for perpetuals, futures and options."""

from __future__ import annotations

import re
from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons, symbols
from tickwire_normalize.domain.reads import not_mapped
from tickwire_normalize.domain.values import (
    book_side,
    decimal_field,
    epoch_millis_field,
    object_field,
    present,
    shown,
    str_field,
)

PROVIDER = "deribit"

_INVERSE_QUOTE = "USD"  # BTC-PERPETUAL, BTC-27DEC24: inverse contracts, priced in USD
_STRIKE = re.compile(r"[0-9]{1,12}(?:d[0-9]{1,12})?")  # Deribit writes 2.5 as 2d5

# Ticker field -> tick field, values taken as they are. Deribit's IVs are in percent (mark_iv 52.5
# is 52.5 %), as the tick schema wants them; option prices are in the base coin (BTC), the
# underlying's in USD.
_VALUES = {
    "last_price": "last_traded_price",
    "index_price": "index_price",
    "mark_price": "mark_price",
    "mark_iv": "mark_implied_volatility",
    "min_price": "min_price",
    "max_price": "max_price",
    "settlement_price": "settlement_price",
    "estimated_delivery_price": "estimated_delivery_price",
    "delivery_price": "delivery_price",
    "underlying_price": "underlying_price",
    "current_funding": "current_funding",
    "funding_8h": "funding_8h",
    "open_interest": "open_interest",
    "interest_rate": "interest_rate",
    "interest_value": "interest_value",
}
_STATS = {
    "volume": "volume_24h",
    "volume_usd": "volume_usd_24h",
    "price_change": "price_percent_change_24h",
    "high": "high_24h",
    "low": "low_24h",
}
_GREEKS = ("delta", "gamma", "vega", "theta", "rho")


def symbol(venue_instrument: str) -> str:
    """BTC-PERPETUAL -> BTC-USD-PERP, BTC_USDC-PERPETUAL -> BTC-USDC-PERP, BTC-27DEC24 ->
    BTC-USD-20241227, BTC-27DEC24-100000-C -> BTC-USD-20241227-100000-C, BTC_USDC -> BTC-USDC;
    combos and anything else keep the venue's name."""
    parts = venue_instrument.split("-")
    underlying = parts[0].split("_")
    if len(underlying) > 2 or not all(symbols.is_asset(asset) for asset in underlying):
        return venue_instrument
    base, quote = underlying[0], underlying[1] if len(underlying) == 2 else _INVERSE_QUOTE
    if len(parts) == 1:
        return symbols.spot(base, quote) if len(underlying) == 2 else venue_instrument
    if len(parts) == 2 and parts[1] == "PERPETUAL":
        return symbols.perpetual(base, quote)
    expiry = symbols.venue_expiry(parts[1])
    if expiry is None:
        return venue_instrument
    if len(parts) == 2:
        return symbols.future(base, quote, expiry)
    if len(parts) == 4 and _STRIKE.fullmatch(parts[2]) and parts[3] in ("C", "P"):
        return symbols.option(base, quote, expiry, parts[2].replace("d", "."), parts[3])
    return venue_instrument


def map_message(_feed: str, message: Any, _received_ts: int) -> list[dict[str, Any]]:
    if not isinstance(message, dict):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "payload is not a JSON object")
    method = message.get("method")
    if method != "subscription":
        raise RejectedRecord(reasons.UNKNOWN_MESSAGE, f"deribit message method {shown(method)}")
    params = object_field(message, "params") or {}
    channel = str_field(params, "channel") or ""
    if not channel.startswith("ticker."):
        raise RejectedRecord(reasons.UNKNOWN_MESSAGE, f"deribit channel {shown(channel)}")
    data = object_field(params, "data")
    if data is None:
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "deribit notification without data")
    not_mapped(message, "jsonrpc")
    return [_ticker(data)]


def _ticker(data: dict[str, Any]) -> dict[str, Any]:
    bid_price, bid_amount = book_side(data, "best_bid_price", "best_bid_amount")
    ask_price, ask_amount = book_side(data, "best_ask_price", "best_ask_amount")
    bid_iv, ask_iv = decimal_field(data, "bid_iv"), decimal_field(data, "ask_iv")
    not_mapped(data, "implied_bid", "implied_ask", "combo_state")  # combos: no place in a tick
    tick: dict[str, Any] = {
        "kind": "ticker",
        "venue_instrument": str_field(data, "instrument_name"),
        "exchange_ts": epoch_millis_field(data, "timestamp"),
        "bid_price": bid_price,
        "bid_amount": bid_amount,
        "ask_price": ask_price,
        "ask_amount": ask_amount,
        # Without a bid (ask) there is no bid (ask) IV, whatever number stands in its place.
        "bid_implied_volatility": bid_iv if bid_price else None,
        "ask_implied_volatility": ask_iv if ask_price else None,
        "underlying_index": str_field(data, "underlying_index"),
        "order_book_state": str_field(data, "state"),
    }
    tick.update({field: decimal_field(data, name) for name, field in _VALUES.items()})
    stats = object_field(data, "stats") or {}
    tick.update({field: decimal_field(stats, name) for name, field in _STATS.items()})
    greeks = object_field(data, "greeks") or {}
    tick.update({name: decimal_field(greeks, name) for name in _GREEKS})
    return present(tick)

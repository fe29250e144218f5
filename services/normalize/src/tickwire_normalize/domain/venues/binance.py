"""Mapping of Binance spot bookTicker and aggTrade events (combined-stream frames or bare events,
as received) to ticks of kind "quote" and "trade"."""

from __future__ import annotations

from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons, symbols
from tickwire_normalize.domain.reads import not_mapped
from tickwire_normalize.domain.values import (
    TIME_NOT_IDENTITY,
    book_side,
    decimal_field,
    epoch_millis_field,
    int_field,
    object_field,
    present,
    shown,
    str_field,
)

PROVIDER = "binance"

# Quote assets of Binance spot symbols, which carry no separator (BTCUSDT): symbol() splits a
# name at the longest of these it ends with.
QUOTE_ASSETS = (
    "USDT", "USDC", "FDUSD", "TUSD", "BUSD", "USDP", "DAI",
    "BTC", "ETH", "BNB", "XRP", "TRX", "DOGE",
    "EUR", "GBP", "TRY", "BRL", "JPY", "AUD", "PLN", "RON", "ZAR", "UAH", "ARS", "MXN", "IDR",
    "COP", "CZK",
)  # fmt: skip

_BOOK_TICKER = "bookTicker"
_AGG_TRADE = "aggTrade"


# BTCUSDT -> BTC-USDT, BNBBTC -> BNB-BTC; a name no known quote asset ends stays as it is.
symbol = symbols.spot_pairs(lambda name: symbols.split_pair(name.upper(), QUOTE_ASSETS))


def map_message(feed: str, message: Any, received_ts: int) -> list[dict[str, Any]]:
    if not isinstance(message, dict):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "payload is not a JSON object")
    if "id" in message and ("result" in message or "error" in message):
        raise RejectedRecord(reasons.UNKNOWN_MESSAGE, "binance response to a request")
    stream = str_field(message, "stream")
    if stream is not None:  # combined stream: {"stream": "btcusdt@bookTicker", "data": {...}}
        event = object_field(message, "data")
        if event is None:
            raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "combined-stream frame without data")
        kind = stream.rpartition("@")[2]
    else:
        event, kind = message, feed
    event_type = event.get("e")
    if event_type is not None:
        kind = event_type  # an event that names itself outranks the stream and the feed
    if kind == _AGG_TRADE:
        return [_agg_trade(event)]
    if kind == _BOOK_TICKER:
        return [_book_ticker(event, received_ts)]
    raise RejectedRecord(reasons.UNKNOWN_MESSAGE, f"binance event {shown(kind)}")


def _book_ticker(event: dict[str, Any], received_ts: int) -> dict[str, Any]:
    bid_price, bid_amount = book_side(event, "b", "B")
    ask_price, ask_amount = book_side(event, "a", "A")
    # Spot bookTicker carries no time; futures' carries the transaction time T.
    venue_time = epoch_millis_field(event, "T")
    not_mapped(event, "E")  # futures' event time: T is the book's
    return present(
        {
            "kind": "quote",
            "venue_instrument": str_field(event, "s"),
            "exchange_ts": received_ts if venue_time is None else venue_time,
            "venue_seq": int_field(event, "u"),
            "bid_price": bid_price,
            "bid_amount": bid_amount,
            "ask_price": ask_price,
            "ask_amount": ask_amount,
            TIME_NOT_IDENTITY: True if venue_time is None else None,
        }
    )


def _agg_trade(event: dict[str, Any]) -> dict[str, Any]:
    trade_id = int_field(event, "a")
    buyer_is_maker = event.get("m")
    if buyer_is_maker is not None and not isinstance(buyer_is_maker, bool):
        raise RejectedRecord(
            reasons.UNDECODABLE_PAYLOAD, f"m={shown(buyer_is_maker)} is not a boolean"
        )
    side = None if buyer_is_maker is None else "sell" if buyer_is_maker else "buy"
    not_mapped(event, "E", "f", "l", "M")  # event time (T is the trade's), trade id range, ignore
    return present(
        {
            "kind": "trade",
            "venue_instrument": str_field(event, "s"),
            "exchange_ts": epoch_millis_field(event, "T"),
            "trade_id": None if trade_id is None else str(trade_id),
            "venue_seq": trade_id,
            "last_traded_price": decimal_field(event, "p"),
            "last_traded_volume": decimal_field(event, "q"),
            "side": side,  # the taker's: a maker buyer means a taker seller
        }
    )

"""Mapping of exchange history fetched through ccxt (Binance, Coinbase, Kraken, Deribit): a ccxt
candle becomes a bar of the venue, a ccxt trade a trade tick shaped as the live feed's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.history import BAR, TICK, HistoryRow, Mapped
from tickwire_normalize.domain.values import (
    decimal_field,
    epoch_millis_field,
    id_field,
    int_field,
    present,
    rfc3339_field,
    shown,
    side_field,
)
from tickwire_normalize.domain.venues import MAPPINGS, binance, coinbase, deribit, kraken

PROVIDERS = (binance.PROVIDER, coinbase.PROVIDER, kraken.PROVIDER, deribit.PROVIDER)
TRADES = "trades"
_OHLCV = "ohlcv:"
_INTERVALS = ("1m", "5m", "15m", "1h", "4h", "1d")
_CANDLE = ("timestamp", "open", "high", "low", "close", "volume")  # ccxt's [ms, o, h, l, c, v]


def map_row(row: HistoryRow) -> list[Mapped]:
    if row.provider not in PROVIDERS:
        raise RejectedRecord(reasons.UNKNOWN_PROVIDER, f"no exchange history for {row.provider!r}")
    if row.feed == TRADES:
        return [Mapped(TICK, _trade(row.provider, row.instrument, row.message))]
    interval = row.feed[len(_OHLCV) :] if row.feed.startswith(_OHLCV) else None
    if interval not in _INTERVALS:
        raise RejectedRecord(reasons.UNKNOWN_MESSAGE, f"{row.provider} feed {shown(row.feed)}")
    return [Mapped(BAR, _bar(row.provider, row.instrument, interval, row.message))]


def _bar(provider: str, venue_instrument: str, interval: str, candle: Any) -> dict[str, Any]:
    if not isinstance(candle, list) or len(candle) != len(_CANDLE):
        raise RejectedRecord(
            reasons.UNDECODABLE_PAYLOAD, f"candle {shown(candle)} is not [ms, o, h, l, c, v]"
        )
    values = dict(zip(_CANDLE, candle, strict=True))
    start = epoch_millis_field(values, "timestamp")
    if start is None:
        raise RejectedRecord(reasons.MISSING_IDENTITY, "the candle has no time")
    number = {name: _number(values, name) for name in _CANDLE[1:]}
    return {
        "provider": provider,
        "instrument": MAPPINGS[provider].symbol(venue_instrument),  # as live ticks name it
        "interval": interval,
        "start_ts": start,
        "open": number["open"],
        "high": number["high"],
        "low": number["low"],
        "close": number["close"],
        "volume": number["volume"],
        "tick_count": 0,  # the venue's candle: no ticks of ours were counted into it
        "source": provider,
        "adj_close": None,
    }


def _number(values: dict[str, Any], name: str) -> float:
    number = decimal_field(values, name)
    if number is None:  # ccxt writes null for a value the venue sent and it could not read
        raise RejectedRecord(reasons.MISSING_VALUE, f"the candle's {name} is null")
    return number


def _trade(provider: str, venue_instrument: str, trade: Any) -> dict[str, Any]:
    if not isinstance(trade, dict):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "payload is not a JSON object")
    trade_id = id_field(trade, "id")
    return present(
        {
            "kind": "trade",
            # The live connector's name (the backfill wrote it): normalize derives the unified
            # instrument from it with the live mapping, so history and live ticks join.
            "venue_instrument": venue_instrument,
            "exchange_ts": _trade_time(provider, trade),
            "trade_id": trade_id,
            "venue_seq": _venue_seq(provider, trade),
            "last_traded_price": decimal_field(trade, "price"),
            "last_traded_volume": decimal_field(trade, "amount"),
            "side": side_field(trade, "side"),  # ccxt's: the taker's, as the live mappings read it
        }
    )


def _trade_time(provider: str, trade: dict[str, Any]) -> int | None:
    """The trade's time as precise as the venue gives it: the tick's natural key holds it, so a
    backfilled trade must carry the very time its live twin does. ccxt's `timestamp` is in ms;
    Coinbase and Kraken say microseconds in the raw trade (`info`)."""
    info = trade.get("info")
    if provider == coinbase.PROVIDER and isinstance(info, dict) and info.get("time") is not None:
        return rfc3339_field(info, "time")  # as the live market_trades channel writes it
    if provider == kraken.PROVIDER and isinstance(info, list) and len(info) > 2:
        seconds = decimal_field({"time": info[2]}, "time")  # 1688669597.8277369
        if seconds is not None:
            # In decimal, from the number as Kraken wrote it (a float's repr is that text): in
            # float64, 1709251201.0878434 * 1e6 is ...843.5 and rounds to the wrong microsecond.
            return round(Decimal(repr(seconds)).scaleb(6))
    return epoch_millis_field(trade, "timestamp")


def _venue_seq(provider: str, trade: dict[str, Any]) -> int | None:
    # Binance's live aggTrade carries its id `a` as the sequence too; the same trade says so here.
    info = trade.get("info")
    if provider == binance.PROVIDER and isinstance(info, dict):
        return int_field(info, "a")
    return None

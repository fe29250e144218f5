"""Mapping of CoinGecko history rows (a daily OHLC candle joined with its volume point, as the
backfill publishes them) to vendor bar records of source `coingecko`, instrument BTC-USD."""

from __future__ import annotations

from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons, symbols
from tickwire_normalize.domain.history import BAR, HistoryRow, Mapped
from tickwire_normalize.domain.values import decimal_field, epoch_millis_field, object_field, shown

PROVIDER = "coingecko"
_INTERVALS = {"ohlcv:1d": ("1d", 86_400_000_000)}


def map_row(row: HistoryRow) -> list[Mapped]:
    if row.feed not in _INTERVALS:
        raise RejectedRecord(reasons.UNKNOWN_MESSAGE, f"coingecko feed {shown(row.feed)}")
    interval, length_us = _INTERVALS[row.feed]
    message = row.message
    if not isinstance(message, dict):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "payload is not a JSON object")
    candle = _array(message, "ohlc", 5)
    point = _array(message, "total_volume", 2)
    close_ts = epoch_millis_field({"time": candle[0]}, "time")
    if close_ts is None:
        raise RejectedRecord(reasons.MISSING_IDENTITY, "the candle has no time")
    open_, high, low, close = (
        _number(candle[index], name)
        for index, name in ((1, "open"), (2, "high"), (3, "low"), (4, "close"))
    )
    return [
        Mapped(
            BAR,
            {
                "provider": PROVIDER,
                "instrument": _instrument(message),
                "interval": interval,
                # CoinGecko stamps a candle with its close time.
                "start_ts": close_ts - length_us,
                "open": open_,
                "high": high,
                "low": low,
                "close": close,
                "volume": _number(point[1], "total_volume"),
                "tick_count": 0,
                "source": PROVIDER,
                "adj_close": None,
            },
        )
    ]


def _instrument(message: dict[str, Any]) -> str:
    """BTC-USD: the coin's symbol and the vs currency, upper-case, as the live venues name it."""
    coin = object_field(message, "coin") or {}
    symbol, vs_currency = coin.get("symbol"), message.get("vs_currency")
    if symbol is None or vs_currency is None:
        raise RejectedRecord(reasons.MISSING_IDENTITY, "no coin symbol or vs currency")
    base = symbol.upper() if isinstance(symbol, str) else ""
    quote = vs_currency.upper() if isinstance(vs_currency, str) else ""
    if not symbols.is_asset(base) or not symbols.is_asset(quote):
        raise RejectedRecord(
            reasons.MISSING_IDENTITY,
            f"symbol={shown(symbol)} vs_currency={shown(vs_currency)} is not an asset pair",
        )
    return symbols.spot(base, quote)


def _array(message: dict[str, Any], name: str, size: int) -> list[Any]:
    """The vendor's row under `name` ({"row": [...], "from": endpoint}), of `size` items."""
    part = object_field(message, name)
    values = None if part is None else part.get("row")
    if values is None:
        raise RejectedRecord(reasons.MISSING_VALUE, f"no {name} row from the vendor")
    if not isinstance(values, list) or len(values) != size:
        raise RejectedRecord(
            reasons.UNDECODABLE_PAYLOAD, f"{name}={shown(values)} is not a list of {size} values"
        )
    return values


def _number(value: Any, name: str) -> float:
    number = decimal_field({name: value}, name)
    if number is None:
        raise RejectedRecord(reasons.MISSING_VALUE, f"{name} is null")
    return number

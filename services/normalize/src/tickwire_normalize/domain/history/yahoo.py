"""Mapping of Yahoo history rows (a yfinance bar as JSON, stamped `ts` in epoch ms) to vendor
bar records of source `yahoo`, the instrument named as Yahoo writes the ticker (BRK-B)."""

from __future__ import annotations

from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.history import BAR, HistoryRow, Mapped
from tickwire_normalize.domain.values import decimal_field, epoch_millis_field, shown

PROVIDER = "yahoo"
INTERVALS = {"ohlcv:1d": "1d", "ohlcv:1h": "1h", "ohlcv:5m": "5m", "ohlcv:1m": "1m"}
# The payload's keys are yfinance's column names; the record's fields beside them.
_PRICES = (("Open", "open"), ("High", "high"), ("Low", "low"), ("Close", "close"))


def map_row(row: HistoryRow) -> list[Mapped]:
    """One bar. OHLC and volume are Yahoo's (adjusted for splits, not dividends), adj_close its
    Adj Close (splits and dividends). A bar without a price or volume is rejected as
    missing_value: Yahoo sends nulls for a day or minute without trading (a halt, a closed
    market), and a bar made up of guesses would be worse than none."""
    interval = INTERVALS.get(row.feed)
    if interval is None:
        raise RejectedRecord(reasons.UNKNOWN_MESSAGE, f"yahoo feed {shown(row.feed)}")
    message = row.message
    if not isinstance(message, dict):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "payload is not a JSON object")
    instrument = row.instrument.strip().upper() if isinstance(row.instrument, str) else ""
    if not instrument or any(c.isspace() for c in instrument):
        raise RejectedRecord(reasons.MISSING_IDENTITY, f"ticker {shown(row.instrument)}")
    start_ts = epoch_millis_field(message, "ts")
    if start_ts is None:
        raise RejectedRecord(reasons.MISSING_IDENTITY, "the bar has no ts")
    record: dict[str, Any] = {
        "provider": PROVIDER,
        "instrument": instrument,
        "interval": interval,
        "start_ts": start_ts,
    }
    for column, field in (*_PRICES, ("Volume", "volume")):
        record[field] = _required(message, column)
    record["tick_count"] = 0
    record["source"] = PROVIDER
    record["adj_close"] = decimal_field(message, "Adj Close")
    return [Mapped(BAR, record)]


def _required(message: dict[str, Any], column: str) -> float:
    value = decimal_field(message, column)
    if value is None:
        raise RejectedRecord(reasons.MISSING_VALUE, f"{column} is null")
    return value

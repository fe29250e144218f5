"""Response models of /v1/bars: OHLCV bars of one instrument at the interval asked for, computed
from ticks, given by a vendor or rolled up from stored trades, each saying which."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tickwire_api.models.examples import T0, example, examples


class Bar(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "provider": "simulator",
                "instrument": "SIM-BTC-USD",
                "interval": "5m",
                "start_ts": T0,
                "open": 100.0,
                "high": 101.5,
                "low": 99.5,
                "close": 101.0,
                "volume": 12.5,
                "tick_count": 42,
                "source": "trade",
                "adj_close": None,
                "corrected": False,
            }
        )
    )
    provider: str
    instrument: str
    interval: str
    start_ts: datetime = Field(
        description="Start of the bar, UTC; a vendor's daily bar starts at 00:00 UTC of its "
        "trading day."
    )
    open: float
    high: float
    low: float
    close: float = Field(description="The close as traded (a vendor's unadjusted close).")
    volume: float
    tick_count: int = Field(description="Ticks the bar was built from; 0 for vendor bars.")
    source: str = Field(
        description="What made the bar: trade or mid (computed from ticks by the signals "
        "service), the vendor (yahoo, coingecko, binance, ...), or rollup (rolled up by the "
        "database from the trades stored)."
    )
    adj_close: float | None = Field(
        None,
        description="The vendor's close adjusted for splits and dividends; null for computed "
        "bars and vendors that give none.",
    )
    corrected: bool = Field(
        False,
        description="True when a stored bar it is made of was corrected after it closed: a "
        "price first reported critical and then confirmed as a move by the next prices was "
        "added to it (the anomaly is served with severity confirmed).",
    )


VENDOR_BAR: dict[str, Any] = {
    "provider": "yahoo",
    "instrument": "AAPL",
    "interval": "1d",
    "start_ts": "2024-05-31T00:00:00Z",
    "open": 191.44,
    "high": 192.57,
    "low": 189.91,
    "close": 192.25,
    "volume": 75158300.0,
    "tick_count": 0,
    "source": "yahoo",
    "adj_close": 191.28,
    "corrected": False,
}


class BarSeries(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "instrument": "SIM-BTC-USD",
                    "provider": None,
                    "source": None,
                    "interval": "5m",
                    "base_interval": "1m",
                    "count": 1,
                    "bars": [example(Bar)],
                },
                {
                    "instrument": "AAPL",
                    "provider": None,
                    "source": "yahoo",
                    "interval": "1d",
                    "base_interval": "1d",
                    "count": 1,
                    "bars": [VENDOR_BAR],
                },
            ]
        }
    )
    instrument: str
    provider: str | None
    source: str | None = Field(
        None,
        description="The source filter as given: a source, 'computed', 'vendor', 'rollup' or null.",
    )
    interval: str
    base_interval: str = Field(
        description="The stored bars served: '1s' or '1m' for computed bars (aggregated), the "
        "interval itself for vendor and rollup bars (served as stored)."
    )
    count: int
    bars: list[Bar]

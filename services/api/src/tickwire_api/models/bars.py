"""Response models of /v1/bars: OHLCV bars of one instrument at the interval asked for."""

from __future__ import annotations

from datetime import datetime

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
            }
        )
    )
    provider: str
    instrument: str
    interval: str
    start_ts: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    tick_count: int
    source: str = Field(description="What the stored bars were built from (trades or quotes).")


class BarSeries(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "instrument": "SIM-BTC-USD",
                "provider": None,
                "interval": "5m",
                "base_interval": "1m",
                "count": 1,
                "bars": [example(Bar)],
            }
        )
    )
    instrument: str
    provider: str | None
    interval: str
    base_interval: str = Field(description="The stored bars aggregated: '1s' or '1m'.")
    count: int
    bars: list[Bar]

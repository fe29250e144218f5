"""Response models of /v1/indicators: per bar, its close, the SMA-20 and SMA-50 of closes and the
simple return from the bar before, computed in the database from the same bars /v1/bars serves."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tickwire_api.models.examples import example, examples


class IndicatorPoint(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "provider": "simulator",
                "source": "trade",
                "start_ts": "2023-11-14T22:13:00Z",
                "close": 101.0,
                "sma_20": 100.42,
                "sma_50": 100.17,
                "return": 0.0012,
                "cross": "above",
            }
        ),
        populate_by_name=True,
    )
    provider: str
    source: str = Field(
        description="What made the bars: trade or mid (computed from ticks), or the vendor."
    )
    start_ts: datetime = Field(description="Start of the bar.")
    close: float
    sma_20: float | None = Field(
        description="Mean close of this bar and the 19 before; null until 20 bars exist."
    )
    sma_50: float | None = Field(
        description="Mean close of this bar and the 49 before; null until 50 bars exist."
    )
    return_: float | None = Field(
        alias="return",
        description="close / previous bar's close - 1; null for the first bar.",
    )
    cross: str | None = Field(
        description="'above' where SMA-20 crosses over SMA-50 at this bar, 'below' where it "
        "crosses under, else null."
    )


class IndicatorSeries(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "instrument": "SIM-BTC-USD",
                "provider": None,
                "source": None,
                "interval": "1m",
                "count": 1,
                "points": [example(IndicatorPoint)],
            }
        )
    )
    instrument: str
    provider: str | None
    source: str | None = Field(
        None, description="The source filter as given: a source, 'computed', 'vendor' or null."
    )
    interval: str
    count: int
    points: list[IndicatorPoint]

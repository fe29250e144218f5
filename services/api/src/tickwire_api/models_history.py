"""Response models of the history routes: instruments, tick pages with a cursor, bars,
anomalies and signals, each with an example for the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tickwire_api.examples import QUOTE, T0, example, examples
from tickwire_api.models import Tick


class InstrumentSummary(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "provider": "simulator",
                    "instrument": "SIM-BTC-USD",
                    "first_tick": T0,
                    "last_tick": "2023-11-14T23:13:20Z",
                    "tick_count": 3600,
                }
            ]
        }
    )
    provider: str
    instrument: str
    first_tick: datetime = Field(description="Exchange time of the oldest stored tick.")
    last_tick: datetime = Field(description="Exchange time of the newest stored tick.")
    tick_count: int = Field(
        description="Ticks stored, each once (a redelivery is not counted again); retention "
        "dropping old chunks does not lower it."
    )


class InstrumentList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples({"count": 1, "instruments": [example(InstrumentSummary)]})
    )
    count: int
    instruments: list[InstrumentSummary]


class TickHistoryPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "instrument": "SIM-BTC-USD",
                    "provider": None,
                    "start": T0,
                    "end": "2023-11-14T23:13:20Z",
                    "limit": 100,
                    "count": 1,
                    "ticks": [QUOTE],
                    "next_cursor": "eyJ0cyI6MTcwMDAwMDAwMDAwMDAwMH0.3q2-7w",
                }
            ]
        }
    )
    instrument: str
    provider: str | None
    start: datetime
    end: datetime
    limit: int
    count: int
    ticks: list[Tick]  # type: ignore[valid-type]
    next_cursor: str | None = Field(
        description="Pass as `cursor` with the same filters for the next page; null at the end."
    )


class Bar(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
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
            ]
        }
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


class Anomaly(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "provider": "simulator",
                    "instrument": "SIM-BTC-USD",
                    "ts": T0,
                    "rule": "zscore",
                    "severity": "critical",
                    "value": 6.2,
                    "threshold": 5.0,
                    "window_mean": 100.0,
                    "window_stddev": 0.25,
                    "window_count": 200,
                    "detail": "mid 101.55 is 6.2 standard deviations from the window mean",
                }
            ]
        }
    )
    provider: str
    instrument: str
    ts: datetime
    rule: str
    severity: str
    value: float
    threshold: float
    window_mean: float | None
    window_stddev: float | None
    window_count: int | None
    detail: str


class AnomalyList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples({"count": 1, "anomalies": [example(Anomaly)]})
    )
    count: int
    anomalies: list[Anomaly]


class Signal(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "provider": "simulator",
                    "instrument": "SIM-BTC-USD",
                    "ts": T0,
                    "name": "sma_20",
                    "value": 100.25,
                    "parameters": {"interval": "1m", "window": "20"},
                    "interval": "1m",
                }
            ]
        }
    )
    provider: str
    instrument: str
    ts: datetime
    name: str
    value: float
    parameters: dict[str, Any]
    interval: str


class SignalList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples({"count": 1, "signals": [example(Signal)]})
    )
    count: int
    signals: list[Signal]

"""The output records as plain dicts with exactly the fields of schemas/anomaly.avsc, bar.avsc and
signal.avsc, and Emitted, the three lists one call of the engine appends them to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tickwire_signals.domain.bars import Ohlc

Record = dict[str, Any]


@dataclass
class Emitted:
    anomalies: list[Record] = field(default_factory=list)
    bars: list[Record] = field(default_factory=list)
    signals: list[Record] = field(default_factory=list)

    def clear(self) -> None:
        self.anomalies.clear()
        self.bars.clear()
        self.signals.clear()


def anomaly(
    provider: str,
    instrument: str,
    ts: int,
    rule: str,
    severity: str,
    value: float,
    threshold: float,
    detail: str,
    window: tuple[float, float, int] | None = None,
) -> Record:
    """`window` is (mean, stddev, count) of the window that judged the value, where one did."""
    return {
        "provider": provider,
        "instrument": instrument,
        "ts": ts,
        "rule": rule,
        "severity": severity,
        "value": value,
        "threshold": threshold,
        "window_mean": None if window is None else window[0],
        "window_stddev": None if window is None else window[1],
        "window_count": None if window is None else window[2],
        "detail": detail,
    }


def signal(
    provider: str, instrument: str, ts: int, name: str, value: float, parameters: dict[str, str]
) -> Record:
    return {
        "provider": provider,
        "instrument": instrument,
        "ts": ts,
        "name": name,
        "value": value,
        "parameters": dict(parameters),  # records leave the engine: none shares a dict
    }


def bar(
    provider: str,
    instrument: str,
    interval: str,
    start_ts: int,
    ohlc: Ohlc,
    volume: float,
    source: str,
    revision: int = 0,
) -> Record:
    """`revision` 0 as the bar closes; above 0, the bar corrected after it was emitted."""
    return {
        "provider": provider,
        "instrument": instrument,
        "interval": interval,
        "start_ts": start_ts,
        "open": ohlc.open,
        "high": ohlc.high,
        "low": ohlc.low,
        "close": ohlc.close,
        "volume": volume,
        "tick_count": ohlc.count,
        "source": source,
        "revision": revision,
    }

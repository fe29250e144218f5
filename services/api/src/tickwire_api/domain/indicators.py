"""Indicators of a bar series: SMA-20 and SMA-50 of closes, their crossovers, and simple returns.
Pure: closes in, one point per bar out; a window is judged only once it is full."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any

SHORT = 20
LONG = 50
WARM_UP = LONG  # bars before the first shown one that the longest window needs (and 1 return)


@dataclass(frozen=True, slots=True)
class Point:
    close: float
    sma_20: float | None
    sma_50: float | None
    ret: float | None
    cross: str | None


class _Mean:
    """Mean of the last `size` values, kept as a running sum (re-summed each time the window is
    full, so float error does not build up over a long series)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.values: deque[float] = deque(maxlen=size)

    def push(self, value: float) -> float | None:
        self.values.append(value)
        return sum(self.values) / self.size if len(self.values) == self.size else None


def indicators(closes: Sequence[float]) -> list[Point]:
    short, long = _Mean(SHORT), _Mean(LONG)
    points: list[Point] = []
    previous: Point | None = None
    for close in closes:
        sma_20, sma_50 = short.push(close), long.push(close)
        ret = None if previous is None or previous.close == 0 else close / previous.close - 1
        point = Point(close, sma_20, sma_50, ret, _cross(previous, sma_20, sma_50))
        points.append(point)
        previous = point
    return points


def _cross(previous: Point | None, sma_20: float | None, sma_50: float | None) -> str | None:
    if previous is None or None in (previous.sma_20, previous.sma_50, sma_20, sma_50):
        return None
    assert previous.sma_20 is not None and previous.sma_50 is not None
    assert sma_20 is not None and sma_50 is not None
    if previous.sma_20 <= previous.sma_50 and sma_20 > sma_50:
        return "above"
    if previous.sma_20 >= previous.sma_50 and sma_20 < sma_50:
        return "below"
    return None


def series_points(bars: Sequence[Mapping[str, Any]], start: datetime) -> list[dict[str, Any]]:
    """The points of bars (provider, source, start_ts, close) starting from `start`, computed per
    provider and source, sorted by time: the bars before `start` only fill the windows. Each
    point is a dict of IndicatorPoint's fields by alias ("return")."""
    ordered = sorted(bars, key=lambda b: (b["provider"], b["source"], b["start_ts"]))
    points: list[dict[str, Any]] = []
    for (provider, source), group in groupby(ordered, key=lambda b: (b["provider"], b["source"])):
        series = list(group)
        for bar, point in zip(series, indicators([b["close"] for b in series]), strict=True):
            if bar["start_ts"] >= start:
                points.append(
                    {
                        "provider": provider,
                        "source": source,
                        "start_ts": bar["start_ts"],
                        "close": point.close,
                        "sma_20": point.sma_20,
                        "sma_50": point.sma_50,
                        "return": point.ret,
                        "cross": point.cross,
                    }
                )
    points.sort(key=lambda p: (p["start_ts"], p["provider"], p["source"]))
    return points

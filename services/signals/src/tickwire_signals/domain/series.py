"""One bar interval of one instrument: the bars still open (event time may still reach them) and
what the features need of the bars already closed (recent closes, returns, the day so far)."""

from __future__ import annotations

from collections import deque
from typing import Any

from tickwire_signals.domain.bars import OpenBar
from tickwire_signals.domain.packing import pack_floats, unpack_floats


class BarSeries:
    __slots__ = (
        "closes",
        "cross",
        "day",
        "day_first_open",
        "day_ref_close",
        "length_us",
        "name",
        "open_bars",
        "return_volumes",
        "returns",
    )

    def __init__(self, name: str, length_us: int, closes_size: int, returns_size: int) -> None:
        self.name = name
        self.length_us = length_us
        # Keyed by start_ts. At most ceil(allowed lateness / interval) + 1 of them: a tick older
        # than the watermark's bar is late and opens none.
        self.open_bars: dict[int, OpenBar] = {}
        self.closes: deque[float] = deque(maxlen=closes_size)
        self.returns: deque[float] = deque(maxlen=returns_size)
        self.return_volumes: deque[float] = deque(maxlen=returns_size)  # of each return's bar
        self.cross = 0  # the last non-zero sign of SMA short - SMA long
        self.day: int | None = None  # UTC day number of the last closed bar
        self.day_first_open: float | None = None
        self.day_ref_close: float | None = None  # last close of the previous day with bars

    def bar_for(self, ts: int) -> OpenBar:
        start = ts - ts % self.length_us
        bar = self.open_bars.get(start)
        if bar is None:
            bar = self.open_bars[start] = OpenBar(start)
        return bar

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "length_us": self.length_us,
            "open_bars": [bar.to_list() for bar in self.open_bars.values()],
            "closes_size": self.closes.maxlen,
            "closes": pack_floats(self.closes),
            "returns_size": self.returns.maxlen,
            "returns": pack_floats(self.returns),
            "return_volumes": pack_floats(self.return_volumes),
            "cross": self.cross,
            "day": self.day,
            "day_first_open": self.day_first_open,
            "day_ref_close": self.day_ref_close,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BarSeries:
        series = cls(
            str(data["name"]),
            int(data["length_us"]),
            int(data["closes_size"]),
            int(data["returns_size"]),
        )
        for item in data["open_bars"]:
            bar = OpenBar.from_list(item)
            series.open_bars[bar.start_ts] = bar
        series.closes.extend(unpack_floats(data["closes"]))
        series.returns.extend(unpack_floats(data["returns"]))
        series.return_volumes.extend(unpack_floats(data["return_volumes"]))
        series.cross = int(data["cross"])
        series.day = None if data["day"] is None else int(data["day"])
        series.day_first_open = _opt_float(data["day_first_open"])
        series.day_ref_close = _opt_float(data["day_ref_close"])
        return series


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)

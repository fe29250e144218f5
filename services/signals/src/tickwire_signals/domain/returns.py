"""The return rule's memory per instrument: the reference a price is judged against (the last used
mid) and an EWMA volatility of log returns per lane (book mids, trade prices), O(1) per price.

A trade prints at the bid or the ask, so its distance from the mid carries the half-spread, which
a mid's move does not: one scale for both would flag wide-spread trades or miss spikes in mids.
A mid's return spans every price event since the last used mid (trades in between moved the
market too), so it is measured per square root of those events: tick time, not ticks."""

from __future__ import annotations

import math
from typing import Any


class EwmaScale:
    """The larger of two exponentially weighted RMS of log returns, over `span` returns and over
    a twentieth of that: the fast one lets a burst of volatility raise the scale within a few
    prices, the slow one keeps a calm stretch from shrinking it. Weights are normalised over the
    returns seen (pandas' ewm(adjust=True)), so the first returns are not damped towards zero; a
    return enters clipped at the cap its caller gives, so one wild price moves it a bounded step."""

    __slots__ = ("count", "decay", "den", "fast_decay", "fast_den", "fast_num", "num")

    def __init__(self, span: int) -> None:
        self.decay = 1.0 - 2.0 / (span + 1.0)  # alpha = 2 / (span + 1), as pandas' span
        self.fast_decay = 1.0 - 2.0 / (fast_span(span) + 1.0)
        self.num = self.fast_num = 0.0  # sum of decay^i * r_i^2, newest i = 0
        self.den = self.fast_den = 0.0  # sum of decay^i
        self.count = 0

    def scale(self) -> float:
        if self.den <= 0.0:
            return 0.0
        return math.sqrt(max(self.num / self.den, self.fast_num / self.fast_den))

    def push(self, log_return: float, cap: float = math.inf) -> None:
        r = min(abs(log_return), cap)
        square = r * r
        self.num = square + self.decay * self.num
        self.den = 1.0 + self.decay * self.den
        self.fast_num = square + self.fast_decay * self.fast_num
        self.fast_den = 1.0 + self.fast_decay * self.fast_den
        self.count += 1

    def to_list(self) -> list[float | int]:
        return [self.num, self.den, self.fast_num, self.fast_den, self.count]

    def load(self, values: list[Any]) -> None:
        self.num, self.den = float(values[0]), float(values[1])
        self.fast_num, self.fast_den = float(values[2]), float(values[3])
        self.count = int(values[4])


def fast_span(span: int) -> int:
    return max(2, span // 20)


class ReturnWindow:
    __slots__ = ("last_mid", "mid", "since_mid", "span", "trade")

    def __init__(self, span: int) -> None:
        self.span = span
        self.mid = EwmaScale(span)  # returns of a book's mid against the previous used mid
        self.trade = EwmaScale(span)  # trade (or bookless) prices against the last used mid
        self.last_mid: float | None = None
        self.since_mid = 0  # prices judged since the last used mid

    def to_dict(self) -> dict[str, Any]:
        return {
            "span": self.span,
            "mid": self.mid.to_list(),
            "trade": self.trade.to_list(),
            "last_mid": self.last_mid,
            "since_mid": self.since_mid,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReturnWindow:
        window = cls(int(data["span"]))
        window.mid.load(data["mid"])
        window.trade.load(data["trade"])
        window.last_mid = None if data["last_mid"] is None else float(data["last_mid"])
        window.since_mid = int(data["since_mid"])
        return window

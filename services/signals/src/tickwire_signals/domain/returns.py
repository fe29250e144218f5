"""The return rule's memory per instrument: the reference a price is judged against (the last used
mid), an EWMA volatility of log returns per lane (book mids, trade prices) and the quoted spread.

A trade prints at the bid or the ask, so its distance from the mid carries the half-spread, which
a mid's move does not: a trade is judged by how far it printed beyond the touch (see
`trade_judgement`). A mid's return spans every price event since the last used mid (trades in
between moved the market too), so it is measured per square root of those events: tick time."""

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


class HalfSpread:
    """Exponentially weighted mean and RMS of the log half-spread of used quotes, over `span`
    quotes (normalised as EwmaScale's): the typical touch around a mid, and how far from the mid
    a print at a touch usually is."""

    __slots__ = ("count", "decay", "den", "num", "square")

    def __init__(self, span: int) -> None:
        self.decay = 1.0 - 2.0 / (span + 1.0)
        self.num = self.square = self.den = 0.0
        self.count = 0

    def push(self, bid: float, ask: float) -> None:
        half = math.log(ask / bid) / 2.0
        self.num = half + self.decay * self.num
        self.square = half * half + self.decay * self.square
        self.den = 1.0 + self.decay * self.den
        self.count += 1

    def mean(self) -> float:
        return self.num / self.den if self.den > 0.0 else 0.0

    def rms(self) -> float:
        return math.sqrt(self.square / self.den) if self.den > 0.0 else 0.0

    def to_list(self) -> list[float | int]:
        return [self.num, self.square, self.den, self.count]

    def load(self, values: list[Any]) -> None:
        self.num, self.square, self.den = float(values[0]), float(values[1]), float(values[2])
        self.count = int(values[3])


class ReturnWindow:
    __slots__ = ("last_mid", "mid", "since_mid", "span", "spread", "trade")

    def __init__(self, span: int) -> None:
        self.span = span
        self.mid = EwmaScale(span)  # returns of a book's mid against the previous used mid
        self.trade = EwmaScale(span)  # trade (or bookless) prices against the last used mid
        self.spread = HalfSpread(span)  # of the quotes whose mids were used
        self.last_mid: float | None = None
        self.since_mid = 0  # prices judged since the last used mid

    def to_dict(self) -> dict[str, Any]:
        return {
            "span": self.span,
            "mid": self.mid.to_list(),
            "trade": self.trade.to_list(),
            "spread": self.spread.to_list(),
            "last_mid": self.last_mid,
            "since_mid": self.since_mid,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReturnWindow:
        """A dict saved before the spread was kept loads with a fresh one: trades are judged by
        the trade lane until min_points quotes have been seen again."""
        window = cls(int(data["span"]))
        window.mid.load(data["mid"])
        window.trade.load(data["trade"])
        if "spread" in data:
            window.spread.load(data["spread"])
        window.last_mid = None if data["last_mid"] is None else float(data["last_mid"])
        window.since_mid = int(data["since_mid"])
        return window


def trade_judgement(
    window: ReturnWindow, log_return: float, min_points: int
) -> tuple[float, float, float] | None:
    """(z, log offset of the touch from the reference mid, scale) of a trade `log_return` away
    from the last used mid; None until the book lanes can judge (then the trade lane does).

    The touch is the typical one, the mean quoted half-spread either side of the mid, not the
    last quote's: a quote's spread comes and goes from one update to the next, and a trade does
    not print at the quote before it but at the book of its own moment. A print inside the touch
    is not suspicious (z 0); beyond it, its distance is scaled by how far a print at a touch
    strays from the mid: the mid's volatility of one price event and the RMS half-spread."""
    spread, mid = window.spread, window.mid
    if spread.count < min_points or mid.count < min_points:
        return None
    scale = math.hypot(mid.scale(), spread.rms())
    if scale <= 0.0:
        return None
    touch = math.copysign(spread.mean(), log_return)
    beyond = log_return - touch
    if beyond * log_return <= 0.0:  # inside the touch, or at it
        return 0.0, touch, scale
    return beyond / scale, touch, scale

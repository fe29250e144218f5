"""Rolling z-score of a price against the window of the previous accepted prices, with the sample
standard deviation (ddof=1, as pandas' rolling std): O(1) per price, exact again every window.

The sums are of deviations from a shift (a price of the window), not of raw prices: prices in the
tens of thousands with a spread of cents would otherwise lose the variance to cancellation. A
window of equal prices is recognised exactly (by the run of equal trailing prices), not by a
computed variance that rounding may leave a hair above zero."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from tickwire_signals.domain.packing import pack_floats, unpack_floats


class ZWindow:
    __slots__ = ("prices", "run", "shift", "since_exact", "sum_dev", "sum_sq_dev")

    def __init__(self, size: int) -> None:
        self.prices: deque[float] = deque(maxlen=size)
        self.shift = 0.0
        self.sum_dev = 0.0
        self.sum_sq_dev = 0.0
        self.since_exact = 0  # prices pushed since the sums were last recomputed from scratch
        self.run = 0  # how many of the newest prices are equal

    def __len__(self) -> int:
        return len(self.prices)

    def mean_stddev(self) -> tuple[float, float]:
        """Mean and sample standard deviation of the window (at least 2 prices); stddev 0.0 when
        every price in it is the same."""
        prices = self.prices
        n = len(prices)
        if self.run >= n:
            return prices[-1], 0.0
        mean_dev = self.sum_dev / n
        variance = (self.sum_sq_dev - self.sum_dev * mean_dev) / (n - 1)
        return self.shift + mean_dev, math.sqrt(variance) if variance > 0.0 else 0.0

    def push(self, price: float) -> None:
        prices = self.prices
        if not prices:
            self.shift = price
        elif len(prices) == prices.maxlen:
            oldest = prices[0] - self.shift
            self.sum_dev -= oldest
            self.sum_sq_dev -= oldest * oldest
        self.run = self.run + 1 if prices and prices[-1] == price else 1
        prices.append(price)
        if self.run > len(prices):
            self.run = len(prices)
        dev = price - self.shift
        self.sum_dev += dev
        self.sum_sq_dev += dev * dev
        self.since_exact += 1
        if self.since_exact >= len(prices) and len(prices) == prices.maxlen:
            self._recompute()

    def clear(self) -> None:
        self.prices.clear()
        self.shift = self.sum_dev = self.sum_sq_dev = 0.0
        self.since_exact = self.run = 0

    def _recompute(self) -> None:
        # Re-centre on the newest price and drop the rounding the running sums have gathered.
        self.shift = shift = self.prices[-1]
        self.sum_dev = math.fsum(p - shift for p in self.prices)
        self.sum_sq_dev = math.fsum((p - shift) * (p - shift) for p in self.prices)
        self.since_exact = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.prices.maxlen,
            "prices": pack_floats(self.prices),
            "shift": self.shift,
            "sum_dev": self.sum_dev,
            "sum_sq_dev": self.sum_sq_dev,
            "since_exact": self.since_exact,
            "run": self.run,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ZWindow:
        window = cls(int(data["size"]))
        window.prices.extend(unpack_floats(data["prices"]))
        window.shift = float(data["shift"])
        window.sum_dev = float(data["sum_dev"])
        window.sum_sq_dev = float(data["sum_sq_dev"])
        window.since_exact = int(data["since_exact"])
        window.run = int(data["run"])
        return window

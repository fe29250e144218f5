"""A bar being built over [start_ts, start_ts + interval): OHLC of trades (with volume) and of mids
side by side, in event time, so ticks arriving out of order still give the right open and close
(open: earliest exchange_ts, close: latest; on equal times the first and the last to arrive)."""

from __future__ import annotations

from typing import Any


class Ohlc:
    __slots__ = ("close", "close_ts", "count", "high", "low", "open", "open_ts")

    def __init__(self, price: float, ts: int) -> None:
        self.open = self.high = self.low = self.close = price
        self.open_ts = self.close_ts = ts
        self.count = 1

    def add(self, price: float, ts: int) -> bool:
        """Take one more price; True when it is the bar's close now."""
        self.count += 1
        if price > self.high:
            self.high = price
        elif price < self.low:
            self.low = price
        if ts < self.open_ts:
            self.open, self.open_ts = price, ts
        if ts >= self.close_ts:
            self.close, self.close_ts = price, ts
            return True
        return False

    def to_list(self) -> list[Any]:
        return [self.open, self.high, self.low, self.close, self.open_ts, self.close_ts, self.count]

    @classmethod
    def from_list(cls, data: list[Any]) -> Ohlc:
        ohlc = cls(float(data[0]), int(data[4]))
        ohlc.high, ohlc.low, ohlc.close = float(data[1]), float(data[2]), float(data[3])
        ohlc.close_ts, ohlc.count = int(data[5]), int(data[6])
        return ohlc


class OpenBar:
    """Trades give OHLC, volume and notional (for VWAP); quotes give the mid OHLC and the last
    bid and ask (for spread)."""

    __slots__ = ("ask", "bid", "mid", "notional", "start_ts", "trade", "volume")

    def __init__(self, start_ts: int) -> None:
        self.start_ts = start_ts
        self.trade: Ohlc | None = None
        self.mid: Ohlc | None = None
        self.volume = 0.0
        self.notional = 0.0
        self.bid = 0.0
        self.ask = 0.0

    def add_trade(self, price: float, volume: float, ts: int) -> None:
        if self.trade is None:
            self.trade = Ohlc(price, ts)
        else:
            self.trade.add(price, ts)
        self.volume += volume
        self.notional += price * volume

    def add_quote(self, bid: float, ask: float, ts: int) -> None:
        mid = (bid + ask) / 2
        if self.mid is None:
            self.mid = Ohlc(mid, ts)
        elif not self.mid.add(mid, ts):
            return
        self.bid, self.ask = bid, ask

    def to_list(self) -> list[Any]:
        return [
            self.start_ts,
            None if self.trade is None else self.trade.to_list(),
            None if self.mid is None else self.mid.to_list(),
            self.volume,
            self.notional,
            self.bid,
            self.ask,
        ]

    @classmethod
    def from_list(cls, data: list[Any]) -> OpenBar:
        bar = cls(int(data[0]))
        bar.trade = None if data[1] is None else Ohlc.from_list(data[1])
        bar.mid = None if data[2] is None else Ohlc.from_list(data[2])
        bar.volume, bar.notional = float(data[3]), float(data[4])
        bar.bid, bar.ask = float(data[5]), float(data[6])
        return bar

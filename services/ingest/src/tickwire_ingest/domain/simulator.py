"""A deterministic simulated venue: per instrument a random-walk mid with a realistic spread,
quote sizes and trades, emitted as the JSON messages a real venue would send."""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field

PROVIDER = "simulator"


@dataclass(frozen=True)
class InstrumentSpec:
    name: str
    start_price: float = 100.0
    tick_size: float = 0.01


@dataclass(frozen=True)
class SimConfig:
    instruments: tuple[InstrumentSpec, ...]
    seed: int = 42
    trade_probability: float = 0.25
    volatility_per_tick: float = 0.0002  # stddev of the mid's log-return per update
    spread_bps: float = 2.0  # typical half of a liquid spread, before noise
    mean_size: float = 1.0


@dataclass
class _Book:
    spec: InstrumentSpec
    mid: float
    seq: int = 0
    trades: int = 0


@dataclass(frozen=True)
class SimMessage:
    instrument: str
    feed: str  # "quotes" or "trades"
    payload: bytes  # the venue's JSON


@dataclass
class Simulator:
    config: SimConfig
    _rng: random.Random = field(init=False)
    _books: list[_Book] = field(init=False)

    def __post_init__(self) -> None:
        if not self.config.instruments:
            raise ValueError("the simulator needs at least one instrument")
        self._rng = random.Random(self.config.seed)
        self._books = [_Book(spec, spec.start_price) for spec in self.config.instruments]

    def next_message(self, exchange_ts: int) -> SimMessage:
        """The next update of a randomly chosen instrument, stamped with `exchange_ts` (UTC us)."""
        rng = self._rng
        book = self._books[rng.randrange(len(self._books))]
        book.seq += 1
        book.mid *= math.exp(rng.gauss(0.0, self.config.volatility_per_tick))
        tick = book.spec.tick_size
        half_spread = max(tick, book.mid * self.config.spread_bps / 1e4 * rng.expovariate(1.0))
        bid = _round_down(book.mid - half_spread, tick)
        ask = max(_round_up(book.mid + half_spread, tick), bid + tick)
        decimals = _decimals(tick)
        if rng.random() < self.config.trade_probability:
            book.trades += 1
            side = "buy" if rng.random() < 0.5 else "sell"
            body = {
                "type": "trade",
                "instrument": book.spec.name,
                "ts": exchange_ts,
                "seq": book.seq,
                "trade_id": f"{book.spec.name}-{book.trades}",
                "price": f"{ask if side == 'buy' else bid:.{decimals}f}",
                "size": f"{self._size():.4f}",
                "side": side,
            }
            feed = "trades"
        else:
            body = {
                "type": "quote",
                "instrument": book.spec.name,
                "ts": exchange_ts,
                "seq": book.seq,
                "bid": f"{bid:.{decimals}f}",
                "bid_size": f"{self._size():.4f}",
                "ask": f"{ask:.{decimals}f}",
                "ask_size": f"{self._size():.4f}",
            }
            feed = "quotes"
        return SimMessage(book.spec.name, feed, json.dumps(body, separators=(",", ":")).encode())

    def _size(self) -> float:
        # Lognormal sizes: many small orders, a few large ones, never zero.
        return max(0.0001, self.config.mean_size * self._rng.lognormvariate(-0.5, 1.0))


def parse_instruments(spec: str) -> tuple[InstrumentSpec, ...]:
    """'SIM-BTC-USD:65000,SIM-ETH-USD:3500:0.05' -> specs (name[:start price[:tick size]])."""
    specs = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, *rest = item.split(":")
        if not name:
            raise ValueError(f"empty instrument name in {spec!r}")
        price = float(rest[0]) if rest else 100.0
        tick = float(rest[1]) if len(rest) > 1 else 0.01
        if not (price > 0 and tick > 0 and math.isfinite(price) and math.isfinite(tick)):
            raise ValueError(f"instrument {item!r}: price and tick size must be positive numbers")
        specs.append(InstrumentSpec(name, price, tick))
    if not specs:
        raise ValueError("no instruments configured")
    return tuple(specs)


def _decimals(tick: float) -> int:
    return max(0, -math.floor(math.log10(tick) + 1e-9))


def _round_down(value: float, tick: float) -> float:
    return math.floor(value / tick + 1e-9) * tick


def _round_up(value: float, tick: float) -> float:
    return math.ceil(value / tick - 1e-9) * tick

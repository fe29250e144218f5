"""A deterministic simulated venue: per instrument a random-walk mid with a realistic spread,
quote sizes and trades, emitted as the JSON messages a real venue would send."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from tickwire_ingest.domain import faults
from tickwire_ingest.domain.events import DISCONNECT, SILENCE, Gap
from tickwire_ingest.domain.faults import FaultConfig, FaultCounts, FaultDice

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
    drift_per_tick: float = 0.0  # mean of that log-return: a trending market where non-zero
    spread_bps: float = 2.0  # typical half of a liquid spread, before noise
    mean_size: float = 1.0
    faults: FaultConfig = field(default_factory=FaultConfig)  # none by default


@dataclass
class _Book:
    spec: InstrumentSpec
    mid: float
    seq: int = 0
    trades: int = 0
    silent_from: int | None = None  # exchange_ts an injected silence began
    silent_until: int = 0  # the exchange_ts it ends at, or the update (silence_updates)
    silent_in_updates: bool = False  # silent_until counts updates, not exchange time
    jump: float = 0.0  # an injected disconnect's log move of the mid, applied when it ends
    held: list[SimMessage] = field(default_factory=list)  # out-of-order, sent after the next


@dataclass(frozen=True)
class SimMessage:
    instrument: str
    feed: str  # "quotes" or "trades"
    payload: bytes  # the venue's JSON
    faults: tuple[str, ...] = ()  # kinds injected into this message; never part of the payload
    spike: float = 0.0  # an injected spike's log displacement of the mid, 0.0 where none
    jump: float = 0.0  # on the first update after an injected disconnect, the mid's log move


@dataclass
class Simulator:
    """`next_message` is the clean market, one update per call; `step` is the venue with the
    configured faults, which may send no message (silence, a held-back one) or several."""

    config: SimConfig
    fault_counts: FaultCounts = field(init=False, default_factory=FaultCounts)
    _rng: random.Random = field(init=False)
    _books: list[_Book] = field(init=False)
    _dice: FaultDice = field(init=False)
    _updates: int = field(init=False, default=0)  # calls of step(): the venue's own clock

    def __post_init__(self) -> None:
        if not self.config.instruments:
            raise ValueError("the simulator needs at least one instrument")
        self._rng = random.Random(self.config.seed)
        self._books = [_Book(spec, spec.start_price) for spec in self.config.instruments]
        self._dice = FaultDice(self.config.faults, self.config.seed)

    def next_message(self, exchange_ts: int) -> SimMessage:
        """The next update of a randomly chosen instrument, stamped with `exchange_ts` (UTC us)."""
        book = self._pick()
        body, feed = self._update(book, exchange_ts)
        return SimMessage(book.spec.name, feed, _dump(body))

    def step(self, exchange_ts: int) -> list[SimMessage | Gap]:
        """What the venue sends for the next update, faults included, in sending order. With all
        fault rates at 0 this is exactly `[next_message(exchange_ts)]`."""
        dice, counts, config = self._dice, self.fault_counts, self.config.faults
        self._updates += 1
        book = self._pick()
        out: list[SimMessage | Gap] = []
        jumped = 0.0
        if book.silent_from is not None:
            now = self._updates if book.silent_in_updates else exchange_ts
            if now < book.silent_until:
                return out
            # The instrument speaks again: this update is sent, whatever the dice say.
            jumped = book.jump
            out.append(self._silence_over(book, exchange_ts))
        elif dice.hits(faults.SILENCE):
            counts.add(faults.SILENCE)
            self._mute(book, exchange_ts, config.silence_s, config.silence_updates)
            return out
        elif dice.hits(faults.JUMP):
            counts.add(faults.JUMP)
            book.jump = faults.jump_move(config, dice.rng)
            self._mute(book, exchange_ts, config.jump_s, config.jump_updates)
            return out
        injected: list[str] = []
        if dice.hits(faults.GAP):
            book.seq += config.gap_size
            injected.append(faults.GAP)
        displacement, factor = 0.0, 1.0
        if dice.hits(faults.SPIKE):
            injected.append(faults.SPIKE)
            displacement = faults.spike_displacement(config, dice.rng)
            sized = bool(config.spike_sizes)
            factor = math.exp(displacement) if sized else config.spike_factor
        body, feed = self._update(book, exchange_ts, factor)
        if feed == "quotes" and dice.hits(faults.CROSSED):
            faults.cross(body)
            injected.append(faults.CROSSED)
        payload = _dump(body)
        if dice.hits(faults.MALFORMED):
            payload = faults.malform(body, payload, dice.rng)
            injected.append(faults.MALFORMED)
        for kind in injected:
            counts.add(kind)
        # The disconnect was counted when it began; its label goes on the price it moved.
        labels = (*injected, faults.JUMP) if jumped else tuple(injected)
        message = SimMessage(book.spec.name, feed, payload, labels, displacement, jumped)
        sent: list[SimMessage] = [message]
        if dice.hits(faults.DUPLICATE):
            counts.add(faults.DUPLICATE)
            sent.append(replace(message, faults=(*message.faults, faults.DUPLICATE)))
        if book.held:
            # This is the message the held one waits for: it overtakes, the held one follows.
            sent.extend(book.held)
            book.held = []
        elif dice.hits(faults.OUT_OF_ORDER):
            counts.add(faults.OUT_OF_ORDER)
            book.held = [replace(m, faults=(*m.faults, faults.OUT_OF_ORDER)) for m in sent]
            return out
        out.extend(sent)
        return out

    def resume(self, sequences: Mapping[str, int], exchange_ts: int, max_updates: int) -> int:
        """Step the venue, sending nothing, until each of its instruments has reached its
        sequence number in `sequences` (the last one on the raw topic): an instance restarted from
        the same seed then continues the market and its numbering where it was, as its replica
        does, instead of from 1. At most `max_updates` updates; returns how many were stepped."""
        wanted = [(b, sequences[b.spec.name]) for b in self._books if b.spec.name in sequences]
        stepped = 0
        while stepped < max_updates and any(book.seq < seq for book, seq in wanted):
            self.step(exchange_ts)
            stepped += 1
        # What the skipped updates would have injected was injected by the earlier session.
        self.fault_counts = FaultCounts()
        return stepped

    def renumber(self, sequences: Mapping[str, int]) -> None:
        """Continue each instrument's numbering after its number in `sequences`, where stepping
        there (resume) would take too long: the numbers never go back, the market starts anew."""
        for book in self._books:
            book.seq = max(book.seq, sequences.get(book.spec.name, 0))

    def _pick(self) -> _Book:
        return self._books[self._rng.randrange(len(self._books))]

    def _update(
        self, book: _Book, exchange_ts: int, spike_factor: float = 1
    ) -> tuple[dict[str, object], str]:
        rng = self._rng
        book.seq += 1
        book.mid *= math.exp(rng.gauss(self.config.drift_per_tick, self.config.volatility_per_tick))
        # A spike prices this one update off a displaced mid; the walk itself is not moved.
        mid = book.mid * spike_factor if spike_factor != 1 else book.mid
        tick = book.spec.tick_size
        half_spread = max(tick, mid * self.config.spread_bps / 1e4 * rng.expovariate(1.0))
        bid = _round_down(mid - half_spread, tick)
        ask = max(_round_up(mid + half_spread, tick), bid + tick)
        decimals = _decimals(tick)
        if rng.random() < self.config.trade_probability:
            book.trades += 1
            side = "buy" if rng.random() < 0.5 else "sell"
            body: dict[str, object] = {
                "type": "trade",
                "instrument": book.spec.name,
                "ts": exchange_ts,
                "seq": book.seq,
                "trade_id": f"{book.spec.name}-{book.trades}",
                "price": f"{ask if side == 'buy' else bid:.{decimals}f}",
                "size": f"{self._size():.4f}",
                "side": side,
            }
            return body, "trades"
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
        return body, "quotes"

    def _mute(self, book: _Book, exchange_ts: int, seconds: float, updates: int) -> None:
        """Silence the instrument for `updates` of the venue's updates where > 0 (two instances
        of one seed then resume at the same update), else `seconds` of exchange time."""
        book.silent_from = exchange_ts
        book.silent_in_updates = updates > 0
        book.silent_until = (
            self._updates + updates if updates else exchange_ts + round(seconds * 1e6)
        )

    def _silence_over(self, book: _Book, exchange_ts: int) -> Gap:
        start = book.silent_from if book.silent_from is not None else exchange_ts
        book.silent_from = None
        config = self.config.faults
        if book.jump:
            # The market moved while the feed was away: the walk carries on from the new level.
            book.mid *= math.exp(book.jump)
            length = (
                f"{config.jump_updates} updates" if config.jump_updates else f"{config.jump_s:g} s"
            )
            reason, detail = (
                DISCONNECT,
                (f"injected disconnect of {length}; the price moved {book.jump * 1e4:+.0f} bps"),
            )
            book.jump = 0.0
        else:
            length = (
                f"{config.silence_updates} updates"
                if config.silence_updates
                else f"{config.silence_s:g} s"
            )
            reason, detail = SILENCE, f"injected silence of {length}"
        return Gap(
            instrument=book.spec.name,
            reason=reason,
            start_ts=start,
            end_ts=exchange_ts,
            detail=detail,
        )

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


def _dump(body: dict[str, object]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _round_down(value: float, tick: float) -> float:
    return math.floor(value / tick + 1e-9) * tick


def _round_up(value: float, tick: float) -> float:
    return math.ceil(value / tick - 1e-9) * tick

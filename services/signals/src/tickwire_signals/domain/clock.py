"""ProviderClock: the event time of one provider's instruments in one input partition, moved by
every tick. Within a partition ticks arrive in feed order; across partitions consumption skews
freely, so event time is only compared inside one partition.

Each tick that moves the clock is judged at its own time: stale quotes among the instruments, and
the bars of quiet instruments that the clock's watermark closes. So what comes out does not
depend on how the ticks were batched, or where a restart split them. The work per tick is two
comparisons: the clock keeps the earliest time a stale quote could be due and the watermark at
which the next bar could close, and looks at its instruments only when one is passed.

A provider that falls silent as a whole for longer than the stale-quote timeout (a feed outage,
a weekend) has no stale instruments when it comes back: a quote silence counts from the end of
the provider's silence at the earliest (InstrumentState.resumed_ts)."""

from __future__ import annotations

from tickwire_signals.domain.engine import SignalEngine
from tickwire_signals.domain.records import Emitted
from tickwire_signals.domain.state import InstrumentState


class ProviderClock:
    def __init__(self, engine: SignalEngine) -> None:
        self._engine = engine
        self._timeout = engine.config.stale_quote_timeout_us
        self._lateness = engine.config.allowed_lateness_us
        self._lengths = [i.length_us for i in engine.config.bar_intervals]
        self.states: dict[bytes, InstrumentState] = {}
        self.now: int | None = None  # newest exchange_ts of the provider in the partition
        self._stale_due: int | None = None  # no stale quote before it; None: none can come
        self._close_due: int | None = None  # no bar closes below this watermark; None: look

    def add(self, key: bytes, state: InstrumentState) -> None:
        self.states[key] = state
        self._stale_due = _earliest(self._stale_due, self._engine.stale_due(state))
        self._close_due = None  # its bars may end before the clock's watermark

    def discard(self, key: bytes) -> None:
        self.states.pop(key, None)

    def move(self, key: bytes, ts: int, out: Emitted) -> set[bytes]:
        """The tick of `key` at ts was applied: judge the provider at ts where that moves the
        clock. Returns the keys of the states it changed (to be saved)."""
        state = self.states[key]
        self._stale_due = _earliest(self._stale_due, self._engine.stale_due(state))
        now = self.now
        if now is not None and ts <= now:
            return set()
        self.now = ts
        touched: set[bytes] = set()
        if now is not None and ts - now > self._timeout:
            for k, s in self.states.items():
                s.resumed_ts = ts
                touched.add(k)
            self._stale_due = self._earliest_stale()
        if self._stale_due is not None and ts > self._stale_due:
            touched |= self._judge_stale(ts, out)
        watermark = ts - self._lateness
        if self._close_due is None or watermark >= self._close_due:
            touched |= self._close(watermark, out)
        return touched

    def _judge_stale(self, ts: int, out: Emitted) -> set[bytes]:
        keys = list(self.states)
        states = [self.states[k] for k in keys]
        reported = [s.stale_reported for s in states]
        out.anomalies.extend(self._engine.stale_quotes(states, ts))
        self._stale_due = self._earliest_stale()
        return {
            k for k, s, was in zip(keys, states, reported, strict=True) if s.stale_reported != was
        }

    def _earliest_stale(self) -> int | None:
        due: int | None = None
        for state in self.states.values():
            due = _earliest(due, self._engine.stale_due(state))
        return due

    def _close(self, watermark: int, out: Emitted) -> set[bytes]:
        touched: set[bytes] = set()
        for key, state in self.states.items():
            if state.watermark_ts is None or state.watermark_ts < watermark:
                closed_before = len(out.bars)
                self._engine.advance(state, watermark, out)
                if len(out.bars) != closed_before:
                    touched.add(key)
        # Bars start on multiples of their length, so the next can close only once the watermark
        # reaches the next multiple of one of the lengths.
        self._close_due = min((watermark // n + 1) * n for n in self._lengths)
        return touched


def _earliest(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None or a <= b else b

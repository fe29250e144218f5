"""ProviderClock: the event time of one provider's instruments in one input partition, moved by
every tick, closing the bars of quiet instruments that the partition's watermark passes.

Within a partition ticks arrive in feed order; across partitions consumption skews freely, so
event time is only compared inside one partition. Each tick that moves the clock closes bars at
its own time, so what comes out does not depend on how the ticks were batched, or where a restart
split them. The work per tick is one comparison: the clock keeps the watermark at which the next
bar could close, and looks at its instruments only when that is passed. (Stale quotes are judged
per instrument, by the engine: an instrument's partition may hold no other instrument of its
provider to compare it with.)

The clock takes its instruments' watermarks to the last finest bar boundary its own watermark has
reached, not to the watermark itself: the same bars close either way (every interval is a
multiple of the finest), and where a quiet instrument's watermark stands then does not depend on
which tick happened to look at the instruments. A restart looks at them at other ticks (an
instrument rejoins the clock at its next tick), and a late tick's judgement, measured from its
instrument's watermark, would otherwise read differently from an uninterrupted run's."""

from __future__ import annotations

from tickwire_signals.domain.engine import SignalEngine
from tickwire_signals.domain.records import Emitted
from tickwire_signals.domain.state import InstrumentState


class ProviderClock:
    def __init__(self, engine: SignalEngine) -> None:
        self._engine = engine
        self._lateness = engine.config.allowed_lateness_us
        self._lengths = [i.length_us for i in engine.config.bar_intervals]
        self._finest = self._lengths[0]  # the intervals are sorted, finest first
        self.states: dict[bytes, InstrumentState] = {}
        self.now: int | None = None  # newest exchange_ts of the provider in the partition
        self._close_due: int | None = None  # no bar closes below this watermark; None: look

    def add(self, key: bytes, state: InstrumentState) -> None:
        self.states[key] = state
        self._close_due = None  # its bars may end before the clock's watermark

    def discard(self, key: bytes) -> None:
        self.states.pop(key, None)

    def reached(self) -> int | None:
        """The last finest bar boundary the clock's watermark has reached: where it takes its
        instruments (and where one rejoining it after a restart goes)."""
        if self.now is None:
            return None
        watermark = self.now - self._lateness
        return watermark - watermark % self._finest

    def move(self, key: bytes, ts: int, out: Emitted) -> set[bytes]:
        """The tick of `key` at ts was applied: close the bars its time closes, where it moves the
        clock. Returns the keys of the states it changed (to be saved)."""
        now = self.now
        if now is not None and ts <= now:
            return set()
        self.now = ts
        watermark = ts - self._lateness
        if self._close_due is None or watermark >= self._close_due:
            return self._close(watermark, out)
        return set()

    def _close(self, watermark: int, out: Emitted) -> set[bytes]:
        touched: set[bytes] = set()
        reached = watermark - watermark % self._finest
        for key, state in self.states.items():
            if state.watermark_ts is None or state.watermark_ts < reached:
                closed_before = len(out.bars)
                self._engine.advance(state, reached, out)
                if len(out.bars) != closed_before:
                    touched.add(key)
        # Bars start on multiples of their length, so the next can close only once the watermark
        # reaches the next multiple of one of the lengths.
        self._close_due = min((watermark // n + 1) * n for n in self._lengths)
        return touched

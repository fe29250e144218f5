"""Critical prices awaiting the next prices' verdict, and the closed bars they would have entered:
confirmed (a move), they go back into those bars, re-emitted with a revision, and get a
`confirmed` anomaly; reverted (a spike), they stay out and nothing more is said.

The price rule confirms a critical price when it rebases: `rebase_after` critical prices in a row
on the same side, counting it, with no price used between them. Any price the rule uses (within
the critical threshold of the old level) or a critical on the other side ends the wait, and the
waiting prices stay excluded. So at most `rebase_after - 1` prices wait, each for at most the next
`rebase_after - 1` prices the instrument's rule judges, however long those take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tickwire_signals.domain.bars import OpenBar
from tickwire_signals.domain.records import Emitted, Record

if TYPE_CHECKING:
    from collections.abc import Callable

    from tickwire_signals.domain.series import BarSeries
    from tickwire_signals.domain.state import InstrumentState

    # (state, series, bar, end) -> the bar's record, or None where it makes no bar
    BarRecord = Callable[[InstrumentState, BarSeries, OpenBar, int], Record | None]

CONFIRMED = "confirmed"  # the severity of a correction: a move, not a bad price


@dataclass(slots=True)
class PendingCritical:
    """A critical price not used (yet): the anomaly record that reported it, and what its bars
    need of the tick. `lane` is "trade" (OHLC and volume), "mid" (a book's bid and ask) or
    "rule" (a ticker's last trade price: it feeds the price rule, never a bar)."""

    record: Record
    price: float
    lane: str
    volume: float = 0.0
    bid: float = 0.0
    ask: float = 0.0

    @property
    def ts(self) -> int:
        return int(self.record["ts"])

    def to_list(self) -> list[Any]:
        return [self.record, self.price, self.lane, self.volume, self.bid, self.ask]

    @classmethod
    def from_list(cls, data: list[Any]) -> PendingCritical:
        record, price, lane, volume, bid, ask = data
        return cls(dict(record), float(price), str(lane), float(volume), float(bid), float(ask))


@dataclass(slots=True)
class HeldBar:
    """A bar closed (and emitted) while a waiting critical price lies in it: kept so that a
    confirmation can re-emit it with that price added. `series` indexes InstrumentState.series."""

    series: int
    bar: OpenBar

    def to_list(self) -> list[Any]:
        return [self.series, self.bar.to_list()]

    @classmethod
    def from_list(cls, data: list[Any]) -> HeldBar:
        return cls(int(data[0]), OpenBar.from_list(data[1]))


def hold(state: InstrumentState, series: int, bar: OpenBar) -> None:
    """Keep a bar closing now if a waiting price lies in it."""
    end = bar.start_ts + state.series[series].length_us
    if any(bar.start_ts <= p.ts < end for p in state.pending):
        state.held.append(HeldBar(series, bar))


def forget(state: InstrumentState) -> None:
    """The waiting prices reverted: they stay excluded, as reported."""
    state.pending.clear()
    state.held.clear()


def confirm(
    state: InstrumentState, confirming: Record, out: Emitted, bar_record: BarRecord
) -> None:
    """The price `confirming` reported makes the waiting prices a move: each gets its correction
    record and enters its bars; bars already closed are re-emitted with revision 1 (a bar made of
    nothing but such prices is emitted for the first time, with revision 1 too). The confirming
    price itself is used by the caller, and corrected here like the others."""
    waiting = state.pending
    count = len(waiting) + 1
    for critical in [*(p.record for p in waiting), confirming]:
        out.anomalies.append(correction(critical, confirming, count))
    held = {(h.series, h.bar.start_ts): h.bar for h in state.held}
    reopened: dict[tuple[int, int], OpenBar] = {}
    watermark = state.watermark_ts
    for pending in waiting:
        ts = pending.ts
        if pending.lane == "rule":
            continue
        if pending.lane == "trade" and (state.first_trade_ts is None or ts < state.first_trade_ts):
            state.first_trade_ts = ts
        for index, series in enumerate(state.series):
            start = ts - ts % series.length_us
            if watermark is None or start + series.length_us > watermark:
                bar = series.bar_for(ts)  # still open: it is emitted at its close as usual
            else:
                key = (index, start)
                bar = reopened.get(key) or held.get(key) or OpenBar(start)
                reopened[key] = bar
            if pending.lane == "trade":
                bar.add_trade(pending.price, pending.volume, ts)
            else:
                bar.add_quote(pending.bid, pending.ask, ts)
    state.excluded_ticks -= count
    forget(state)
    # In the order they closed: by end, the finest interval first.
    order = sorted(reopened, key=lambda k: (k[1] + state.series[k[0]].length_us, k[0]))
    for index, start in order:
        series = state.series[index]
        record = bar_record(state, series, reopened[(index, start)], start + series.length_us)
        if record is not None:
            record["revision"] = 1
            out.bars.append(record)


def correction(critical: Record, confirming: Record, count: int) -> Record:
    """The record that re-classifies the `critical` one: its key (provider, instrument, rule,
    ts), value, threshold and window, severity `confirmed`, and a detail naming the price that
    confirmed it and quoting the original's (which names the price)."""
    detail = (
        f"reported critical, confirmed as a move: {count} critical prices in a row on this side, "
        f"the last at {confirming['ts']}; now used. Reported: {critical['detail']}"
    )
    return {**critical, "severity": CONFIRMED, "detail": detail}

"""SignalEngine: normalized ticks of one provider|instrument in, anomalies, closed bars and features
out, through an InstrumentState it mutates. Pure: the stream wiring owns the state and the I/O.

A tick's price is its mid where the book has both sides, else its trade price (trades, and
tickers without a book). Prices the price rule (return_zscore, or zscore by setting) finds
critical, crossed and locked books are not used: they enter neither the rule's memory nor a bar
nor a feature, unless the next prices confirm a critical one as a move (see corrections). The
first price after a gap is judged by the gap-jump rule alone, which only reports, however large
the jump: markets do move while a feed is down. Late ticks (their finest bar already closed) are
counted and reported, and change nothing else. A stale quote is judged per instrument, at its own
ticks; gap ticks arm the gap-jump rule and, unless they say the instrument alone fell silent,
excuse the quote's silence (the feed lost that stretch)."""

from __future__ import annotations

import math
from enum import Enum
from typing import Any

from tickwire_signals.domain import corrections, rules
from tickwire_signals.domain.bars import OpenBar
from tickwire_signals.domain.config import SignalsConfig, ZScoreParams
from tickwire_signals.domain.features import bar_features, finest_bar_features
from tickwire_signals.domain.records import Emitted, Record, bar
from tickwire_signals.domain.returns import trade_judgement
from tickwire_signals.domain.series import BarSeries
from tickwire_signals.domain.state import InstrumentState

__all__ = ["Emitted", "SignalEngine"]

# Gap reasons that say the instrument alone fell silent while its feed went on: that silence is
# the instrument's own, so a quote left that long is stale.
INSTRUMENT_SILENCES = frozenset({"silence"})


class Verdict(Enum):
    """The price rule's verdict on a price."""

    USED = "used"
    EXCLUDED = "excluded"  # critical, and not (yet) confirmed
    CONFIRMS = "confirms"  # critical, and confirms those before it: a move, used


USED, EXCLUDED, CONFIRMS = Verdict.USED, Verdict.EXCLUDED, Verdict.CONFIRMS


class SignalEngine:
    def __init__(self, config: SignalsConfig) -> None:
        self.config = config
        self._lateness = config.allowed_lateness_us
        self._finest = config.finest.length_us
        self._params: dict[str, ZScoreParams] = {}  # per instrument: its class's parameters

    def new_state(self, provider: str, instrument: str) -> InstrumentState:
        return InstrumentState.new(provider, instrument, self.config)

    def apply(
        self, state: InstrumentState, tick: dict[str, Any], out: Emitted, offset: int | None = None
    ) -> None:
        """Apply one tick of state's instrument; `offset`, where given, is stored as last_offset."""
        state.ticks_applied += 1
        if offset is not None:
            state.last_offset = offset
        kind = tick["kind"]
        ts: int = tick["exchange_ts"]
        if kind == "gap":
            reason = tick.get("gap_reason") or "unknown"
            # The gap-jump rule needs it; the first of several gaps in a row is kept.
            if state.gap is None:
                state.gap = (ts, reason)
            if reason not in INSTRUMENT_SILENCES:
                # The feed lost this stretch (a disconnect, a recycled connection, lost messages):
                # the quote may have moved in it, so its silence is no stale quote.
                state.stale_reported = True
            return
        watermark = state.watermark_ts
        finest = self._finest
        if watermark is not None and ts - ts % finest + finest <= watermark:
            state.late_ticks += 1
            out.anomalies.append(rules.late(state, ts, watermark, self._lateness))
            return
        if state.max_ts is None or ts > state.max_ts:
            state.max_ts = ts
            self.advance(state, ts - self._lateness, out)
        self._judge_stale(state, ts, kind, out)
        if kind == "trade":
            price = tick.get("last_traded_price")
            volume = tick.get("last_traded_volume") or 0.0
            if price is not None and self._use(state, price, ts, out, "trade", volume):
                for series in state.series:
                    series.bar_for(ts).add_trade(price, volume, ts)
                if state.first_trade_ts is None or ts < state.first_trade_ts:
                    state.first_trade_ts = ts
            return
        if kind != "quote" and kind != "ticker":
            return
        if state.last_quote_ts is None or ts > state.last_quote_ts:
            state.last_quote_ts = ts
            state.stale_reported = False
        bid, ask = tick.get("bid_price"), tick.get("ask_price")
        if bid is not None and ask is not None:
            if bid >= ask:
                state.excluded_ticks += 1
                out.anomalies.append(rules.crossed(state, ts, bid, ask))
            elif self._use(state, (bid + ask) / 2, ts, out, "mid", bid=bid, ask=ask):
                state.returns.spread.push(bid, ask)
                for series in state.series:
                    series.bar_for(ts).add_quote(bid, ask, ts)
            return
        # A ticker's last trade price repeats a trade already counted: it feeds the price rules,
        # not the bars.
        price = tick.get("last_traded_price") if kind == "ticker" else None
        if price is not None:
            self._use(state, price, ts, out, "rule")

    def advance(self, state: InstrumentState, watermark_ts: int, out: Emitted) -> None:
        """Close every bar ending at or before watermark_ts (event time, lateness already taken
        off), in event-time order, emitting the bars and their features; ticks that would belong
        to a closed bar are late from now on."""
        if state.watermark_ts is not None and watermark_ts <= state.watermark_ts:
            return
        state.watermark_ts = watermark_ts
        closing = [
            (start + series.length_us, index, start)
            for index, series in enumerate(state.series)
            for start in series.open_bars
            if start + series.length_us <= watermark_ts
        ]
        if not closing:
            return
        closing.sort()  # by end, the finest interval first
        for end, index, start in closing:
            series = state.series[index]
            open_bar = series.open_bars.pop(start)
            if state.pending:
                corrections.hold(state, index, open_bar)
            if index == 0:
                out.signals.extend(
                    finest_bar_features(
                        state.provider,
                        state.instrument,
                        series.name,
                        open_bar,
                        end,
                        state.vwap,
                        self.config.vwap_window_us,
                    )
                )
            record = self._bar_record(state, series, open_bar, end)
            if record is not None:
                out.bars.append(record)
                out.signals.extend(
                    bar_features(state.provider, state.instrument, series, record, self.config)
                )

    def _judge_stale(self, state: InstrumentState, ts: int, kind: str, out: Emitted) -> None:
        """A stale quote, judged at each tick of the instrument itself: its quote is older than
        the timeout while its feed goes on (a trade now, or the quote that ends the silence).
        Once per stale stretch; a silence a gap event explains is not reported (see apply)."""
        if state.stale_reported or state.last_quote_ts is None:
            return
        if ts - state.last_quote_ts > self.config.stale_quote_timeout_us:
            state.stale_reported = True
            out.anomalies.append(rules.stale(state, ts, self.config.stale_quote_timeout_us, kind))

    def _use(
        self,
        state: InstrumentState,
        price: float,
        ts: int,
        out: Emitted,
        lane: str,
        volume: float = 0.0,
        bid: float = 0.0,
        ask: float = 0.0,
    ) -> bool:
        """Judge a price (gap jump, then the price rule); True when it is used, which makes it
        part of the rule's memory. `lane`: what the price is, and what its bars would take of
        the tick (corrections.PendingCritical): "trade" (with volume), "mid" (of bid and ask)
        or "rule" (for the price rule only)."""
        params = self._params.get(state.instrument)
        if params is None:
            params = self._params[state.instrument] = self.config.zscore_for(state.instrument)
        after_gap = state.gap is not None
        if after_gap:
            self._judge_gap(state, price, ts, out)
            # Nor is a mid's return from the mid before the gap one (when a trade comes first):
            # the first mid after a gap starts the mid reference again, unjudged.
            state.returns.last_mid = None
        mid = lane == "mid"
        unjudged = after_gap or (mid and state.returns.last_mid is None)
        if params.method == "level":
            verdict = self._judge_level(state, price, ts, out, params)
        else:
            verdict = USED if unjudged else self._judge_return(state, price, ts, out, params, mid)
        if verdict == EXCLUDED:
            # Its record is the last one out: the rule reports every critical price.
            record = dict(out.anomalies[-1])
            state.pending.append(corrections.PendingCritical(record, price, lane, volume, bid, ask))
            return False
        if verdict == CONFIRMS:
            corrections.confirm(state, out.anomalies[-1], out, self._bar_record)
        elif state.pending:
            corrections.forget(state)
        state.critical_run = 0
        if mid:
            state.returns.last_mid = price
            state.returns.since_mid = 0
        state.last_price = price
        return True

    def _judge_gap(self, state: InstrumentState, price: float, ts: int, out: Emitted) -> None:
        assert state.gap is not None
        before = state.last_price
        if before is not None and before > 0.0:
            jump = rules.gap_jump(
                state,
                ts,
                price,
                before,
                state.gap,
                self.config.gap_jump_warn_bps,
                self.config.gap_jump_critical_bps,
            )
            if jump is not None:
                out.anomalies.append(jump)
        state.gap = None

    def _judge_return(
        self,
        state: InstrumentState,
        price: float,
        ts: int,
        out: Emitted,
        params: ZScoreParams,
        mid: bool,
    ) -> Verdict:
        """The verdict on the price (EXCLUDED when critical). Every judged return enters its lane's
        scale, clipped at the critical move: a burst of volatility must raise the scale even
        though its largest moves are not used, and one spike may raise it only so far."""
        returns = state.returns
        reference = returns.last_mid if returns.last_mid is not None else state.last_price
        if reference is None or reference <= 0.0 or price <= 0.0:
            return USED
        returns.since_mid += 1
        lane = returns.mid if mid else returns.trade
        steps = math.sqrt(returns.since_mid) if mid else 1.0
        log_return = math.log(price / reference) / steps
        if lane.count < params.min_points:
            lane.push(log_return)
            return USED
        scale = lane.scale()
        if scale <= 0.0:  # a price that has never moved cannot judge a move
            lane.push(log_return)
            return USED
        z, judged_from, count = log_return / scale, reference, min(lane.count, params.window)
        lane.push(log_return, params.critical * scale)
        beyond = None if mid else trade_judgement(returns, log_return, params.min_points)
        if beyond is not None:
            z, touch, scale = beyond
            judged_from = reference * math.exp(touch)  # the touch it printed beyond
            count = min(returns.mid.count, params.window)
        if -params.warn < z < params.warn:
            return USED
        critical = self._count_critical(state, z, params)
        rebased = critical and state.critical_run >= params.rebase_after
        judged_by = (judged_from, judged_from * scale * steps, count)
        out.anomalies.append(
            rules.return_zscore(
                state, ts, price, judged_by, z, params, rebased, mid, beyond is not None
            )
        )
        # Rebased, the price has moved for good: it is used, and the next prices are judged from
        # here.
        return CONFIRMS if rebased else EXCLUDED if critical else USED

    def _judge_level(
        self, state: InstrumentState, price: float, ts: int, out: Emitted, params: ZScoreParams
    ) -> Verdict:
        window = state.zscore
        verdict = USED
        if len(window) >= params.min_points:
            mean, stddev = window.mean_stddev()
            z = (price - mean) / stddev if stddev > 0.0 else 0.0  # equal prices cannot judge
            if z >= params.warn or z <= -params.warn:
                verdict = self._report_z(state, ts, price, mean, stddev, z, params, out)
                if verdict == EXCLUDED:
                    return verdict
        window.push(price)  # rebased, the window starts again from this price
        return verdict

    def _count_critical(self, state: InstrumentState, z: float, params: ZScoreParams) -> bool:
        if abs(z) < params.critical:
            return False
        side = 1 if z > 0 else -1
        if side == state.critical_side:
            state.critical_run += 1
        else:
            # The other side: the prices waiting on this one reverted.
            state.critical_run = 1
            if state.pending:
                corrections.forget(state)
        state.critical_side = side
        state.excluded_ticks += 1
        return True

    def _report_z(
        self,
        state: InstrumentState,
        ts: int,
        price: float,
        mean: float,
        stddev: float,
        z: float,
        params: ZScoreParams,
        out: Emitted,
    ) -> Verdict:
        critical = self._count_critical(state, z, params)
        rebased = critical and state.critical_run >= params.rebase_after
        judged_by = (mean, stddev, len(state.zscore))
        record = rules.zscore(state, ts, price, judged_by, z, params, rebased)
        if record is not None:
            out.anomalies.append(record)
        if rebased:
            state.zscore.clear()
            return CONFIRMS
        return EXCLUDED if critical else USED

    def _bar_record(
        self, state: InstrumentState, series: BarSeries, open_bar: OpenBar, end: int
    ) -> Record | None:
        # A trade bar where the bar has trades; a mid bar only before the instrument's first
        # trade: afterwards a bar without trades is no bar, as in any trade-bar feed.
        if open_bar.trade is not None:
            ohlc, volume, source = open_bar.trade, open_bar.volume, "trade"
        elif open_bar.mid is not None and (
            state.first_trade_ts is None or state.first_trade_ts >= end
        ):
            ohlc, volume, source = open_bar.mid, 0.0, "mid"
        else:
            return None
        return bar(
            state.provider, state.instrument, series.name, open_bar.start_ts, ohlc, volume, source
        )

"""The anomaly rules' verdicts as anomaly records: return and level z-scores, crossed or locked
book, gap jump, late tick and stale quote. Each returns None where it finds nothing to report."""

from __future__ import annotations

from tickwire_signals.domain.config import US_PER_S, ZScoreParams
from tickwire_signals.domain.records import Record, anomaly
from tickwire_signals.domain.state import InstrumentState


def zscore(
    state: InstrumentState,
    ts: int,
    price: float,
    window: tuple[float, float, int],
    z: float,
    params: ZScoreParams,
    rebased: bool,
) -> Record | None:
    """`window` is (mean, stddev, count) of the previous prices that judge `price`."""
    magnitude = abs(z)
    if magnitude >= params.critical:
        severity, threshold = "critical", params.critical
    elif magnitude >= params.warn:
        severity, threshold = "warning", params.warn
    else:
        return None
    mean, _, count = window
    detail = (
        f"price {price:.10g} is {z:+.2f} standard deviations from the mean {mean:.10g} of the "
        f"previous {count} prices"
    )
    if severity == "critical":
        detail += _rebased(params) + ": the window restarts from it" if rebased else "; not used"
    return anomaly(
        state.provider,
        state.instrument,
        ts,
        "zscore",
        severity,
        z,
        threshold,
        detail,
        window,
    )


def return_zscore(
    state: InstrumentState,
    ts: int,
    price: float,
    judged_by: tuple[float, float, int],
    z: float,
    params: ZScoreParams,
    rebased: bool,
    mid: bool,
    beyond_touch: bool = False,
) -> Record:
    """`judged_by` is (reference price, volatility in price units, returns behind it): the
    reference is the last used mid, or for a trade judged beyond the touch the typical touch
    around it. The caller has found |z| at or above the warn threshold."""
    critical = abs(z) >= params.critical
    severity, threshold = ("critical", params.critical) if critical else ("warning", params.warn)
    reference, volatility, count = judged_by
    if beyond_touch:
        detail = (
            f"trade price {price:.10g} printed {z:+.2f} times the volatility of a print "
            f"({volatility:.6g}, from {count} mids and quoted spreads) beyond the typical "
            f"touch {reference:.10g} around the last used mid"
        )
    else:
        lane = "mid" if mid else "trade"
        detail = (
            f"{lane} price {price:.10g} moved {z:+.2f} times the recent volatility "
            f"({volatility:.6g} over {count} returns) from the last used mid {reference:.10g}"
        )
    if critical:
        detail += _rebased(params) + ": the next are judged from it" if rebased else "; not used"
    return anomaly(
        state.provider,
        state.instrument,
        ts,
        "return_zscore",
        severity,
        z,
        threshold,
        detail,
        judged_by,
    )


def _rebased(params: ZScoreParams) -> str:
    return (
        f"; {params.rebase_after} critical prices in a row on this side, a move: this price is "
        "used and the ones before it confirmed"
    )


def crossed(state: InstrumentState, ts: int, bid: float, ask: float) -> Record:
    if bid > ask:
        rule, severity, word = "crossed_market", "critical", "above"
    else:
        rule, severity, word = "locked_market", "warning", "equal to"
    detail = f"bid {bid:.10g} {word} ask {ask:.10g}; quote not used"
    return anomaly(state.provider, state.instrument, ts, rule, severity, bid - ask, 0.0, detail)


def gap_jump(
    state: InstrumentState,
    ts: int,
    price: float,
    before: float,
    gap: tuple[int, str],
    warn_bps: float,
    critical_bps: float,
) -> Record | None:
    bps = (price - before) / before * 1e4
    if abs(bps) >= critical_bps:
        severity, threshold = "critical", critical_bps
    elif abs(bps) >= warn_bps:
        severity, threshold = "warning", warn_bps
    else:
        return None
    detail = (
        f"first price {price:.10g} after a gap ({gap[1]}, from {gap[0]}) is {bps:+.1f} bps "
        f"from the last price {before:.10g} before it"
    )
    return anomaly(
        state.provider, state.instrument, ts, "gap_jump", severity, bps, threshold, detail
    )


def late(state: InstrumentState, ts: int, watermark_ts: int, lateness_us: int) -> Record:
    # Lateness is measured from the event time the watermark stands for (its own newest tick
    # unless an outside watermark moved it further), so it always exceeds the allowed lateness.
    behind = (watermark_ts + lateness_us - ts) / US_PER_S
    allowed = lateness_us / US_PER_S
    detail = (
        f"exchange_ts {ts} is {behind:.3f}s behind; its bar closed at watermark {watermark_ts}; "
        "not merged"
    )
    return anomaly(
        state.provider, state.instrument, ts, "late_tick", "warning", behind, allowed, detail
    )


def stale(state: InstrumentState, now_ts: int, timeout_us: int, kind: str) -> Record:
    last = state.last_quote_ts
    assert last is not None
    age = (now_ts - last) / US_PER_S
    detail = (
        f"no quote for {age:.3f}s (last at {last}) until this {kind} of the instrument, longer "
        f"than {timeout_us / US_PER_S:g}s; no gap event explains the silence"
    )
    return anomaly(
        state.provider,
        state.instrument,
        now_ts,
        "stale_quote",
        "warning",
        age,
        timeout_us / US_PER_S,
        detail,
    )

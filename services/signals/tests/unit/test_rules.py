"""The book and feed rules: crossed and locked quotes, the price jump across a gap, and stale
quotes of an instrument, judged at its own ticks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from tickwire_signals.domain import Emitted, InstrumentState, SignalEngine, SignalsConfig
from tickwire_signals.domain.config import ZScoreParams
from tickwire_testing import signals as testing

T0 = 1_700_006_400_000_000  # 2023-11-15T00:00:00Z
S = 1_000_000
LEVEL = SignalsConfig(zscore=ZScoreParams(method="level"))


def tick(kind: str, ts: int, instrument: str = "XRP-USD", **values: Any) -> dict[str, Any]:
    return testing.tick(kind, ts, instrument, **values)


def quote(
    ts: int, bid: float | None, ask: float | None, instrument: str = "XRP-USD"
) -> dict[str, Any]:
    return testing.quote(ts, bid, ask, instrument=instrument)


def run(
    ticks: list[dict[str, Any]], engine: SignalEngine | None = None
) -> tuple[Emitted, InstrumentState]:
    engine = engine or SignalEngine(SignalsConfig())
    state = engine.new_state("sim", ticks[0]["instrument"])
    out = Emitted()
    for t in ticks:
        engine.apply(state, t, out)
    engine.advance(state, T0 + 10**12, out)
    return out, state


def test_crossed_and_locked_quotes_are_reported_and_not_used() -> None:
    rng = np.random.default_rng(21)
    bids = np.round(0.6 + rng.normal(0, 0.001, 300), 4)
    good = [quote(T0 + i * 10_000, float(b), float(b) + 0.0002) for i, b in enumerate(bids)]
    crossed, locked = quote(T0 + 1_005_000, 0.61, 0.6), quote(T0 + 2_005_000, 0.605, 0.605)
    ticks = [*good[:100], crossed, *good[100:200], locked, *good[200:]]
    out, state = run(ticks, SignalEngine(LEVEL))  # whose window shows which prices were used
    book = [a for a in out.anomalies if a["rule"] != "zscore"]
    assert [(a["rule"], a["severity"], a["ts"], a["value"], a["threshold"]) for a in book] == [
        ("crossed_market", "critical", T0 + 1_005_000, 0.61 - 0.6, 0.0),
        ("locked_market", "warning", T0 + 2_005_000, 0.0, 0.0),
    ]
    assert state.excluded_ticks == 2
    mids = (bids + bids + 0.0002) / 2
    assert list(state.zscore.prices) == list(mids[-200:])
    frame = pd.DataFrame({"ts": T0 + np.arange(300) * 10_000, "mid": mids})
    per_second = frame.groupby(frame.ts // S * S).mid
    assert [b["high"] for b in out.bars if b["interval"] == "1s"] == list(per_second.max())
    assert [b["tick_count"] for b in out.bars if b["interval"] == "1s"] == [100, 100, 100]


def around_100(n: int) -> list[dict[str, Any]]:
    # Alternating 99 and 101: a window with stddev ~1, so a jump of a few percent is no z outlier.
    return [tick("trade", T0 + i * 1_000, last_traded_price=99.0 + 2 * (i % 2)) for i in range(n)]


@pytest.mark.parametrize(
    ("after", "severity", "threshold"),
    [
        (101.3, None, None),
        (101.7, "warning", 50.0),
        (103.5, "critical", 200.0),
        (98.0, "critical", 200.0),
        (100.7, None, None),
    ],
)
def test_the_first_price_after_a_gap_is_judged_against_the_last_price_before_it(
    after: float, severity: str | None, threshold: float | None
) -> None:
    before = around_100(60)
    last = before[-1]["last_traded_price"]
    gap = tick("gap", T0 + 60_000, gap_end_ts=T0 + 90_000, gap_reason="disconnect")
    # A one-sided book and a crossed one carry no price: the rule waits for a real one.
    waiting = [quote(T0 + 91_000, 99.0, None), quote(T0 + 92_000, 101.0, 100.0)]
    then = [
        tick("trade", T0 + 93_000, last_traded_price=after),
        tick("trade", T0 + 94_000, last_traded_price=after * 1.05),
    ]
    out, _ = run([*before, gap, *waiting, *then], SignalEngine(LEVEL))
    jumps = [a for a in out.anomalies if a["rule"] == "gap_jump"]
    bps = (after - last) / last * 1e4
    if severity is None:
        assert jumps == []
    else:
        assert [(j["ts"], j["severity"], j["threshold"]) for j in jumps] == [
            (T0 + 93_000, severity, threshold)
        ]
        assert jumps[0]["value"] == pytest.approx(bps, rel=1e-12)
        assert "disconnect" in jumps[0]["detail"]
    # The z-score rule judges the same price as usual.
    window = np.array([t["last_traded_price"] for t in before])
    z = (after - window.mean()) / window.std(ddof=1)
    zscores = [a for a in out.anomalies if a["rule"] == "zscore" and a["ts"] == T0 + 93_000]
    assert len(zscores) == (abs(z) >= 2.5)
    if zscores:
        assert zscores[0]["value"] == pytest.approx(z, rel=1e-9)
    # The return rule leaves the first price after a gap to the gap-jump rule alone.
    out, _ = run([*before, gap, *waiting, *then])
    assert [a for a in out.anomalies if a["rule"] == "gap_jump"] == jumps
    assert all(a["ts"] != T0 + 93_000 for a in out.anomalies if a["rule"] == "return_zscore")


def test_a_jump_across_a_gap_whose_first_price_is_a_trade_is_no_critical_mid_after_it() -> None:
    # A book of mids moving 1 bp either way, a half-spread of 1 bp, and now and then a trade at
    # the touch; then the feed drops and comes back 3 % higher, a trade first.
    rng = np.random.default_rng(8)
    mids = 100 * np.exp(np.cumsum(rng.normal(0, 1e-4, 200)))
    before = []
    for i, m in enumerate(mids):
        before.append(quote(T0 + i * 1_000, float(m) * (1 - 1e-4), float(m) * (1 + 1e-4)))
        if i % 4 == 3:
            before.append(tick("trade", T0 + i * 1_000 + 1, last_traded_price=float(m) * 1.0001))
    gap = tick("gap", T0 + 200_000, gap_end_ts=T0 + 300_000, gap_reason="disconnect")
    level = float(mids[-1]) * 1.03
    after = [tick("trade", T0 + 300_000, last_traded_price=level * 1.0001)]
    after += [
        quote(T0 + 300_001 + i, level * (1 - 1e-4 + d), level * (1 + 1e-4 + d))
        for i, d in enumerate((0.0, 1e-4, -1e-4, 0.0))
    ]
    spike = quote(T0 + 300_010, level * 1.01 * (1 - 1e-4), level * 1.01 * (1 + 1e-4))
    out, state = run([*before, gap, *after, spike])
    jumps = [a for a in out.anomalies if a["rule"] == "gap_jump"]
    assert [(a["ts"], a["severity"]) for a in jumps] == [(T0 + 300_000, "critical")]
    # The first mid after the gap is the new reference, not a 3 % return from the mid before it;
    # the next mids are judged from it as usual, and a spike from the new level is still found.
    judged = [
        (a["ts"], a["severity"])
        for a in out.anomalies
        if a["rule"] == "return_zscore" and a["ts"] >= T0 + 300_000
    ]
    assert judged == [(T0 + 300_010, "critical")]
    assert state.returns.last_mid == pytest.approx(level)


def test_a_gap_with_no_price_before_it_is_not_judged() -> None:
    gap = tick("gap", T0, gap_end_ts=T0 + 5, gap_reason="silence")
    out, state = run([gap, tick("trade", T0 + 10, last_traded_price=5.0)])
    assert out.anomalies == [] and state.gap is None


def test_a_stale_quote_is_judged_per_instrument_at_its_own_ticks_once_per_stretch() -> None:
    # Trades go on while the book stops updating: the quote is stale at the first trade more
    # than the timeout after it, and only then; a new quote ends the stretch.
    ticks = [quote(T0 + i * S, 1.0, 1.1) for i in range(3)]  # 0 .. 2 s
    ticks += [tick("trade", T0 + i * S, last_traded_price=1.05) for i in range(3, 15)]  # .. 14 s
    ticks += [tick("trade", T0 + 12 * S + 1, last_traded_price=1.05)]
    ticks += [quote(T0 + 15 * S, 1.0, 1.1), tick("trade", T0 + 20 * S, last_traded_price=1.05)]
    ticks += [quote(T0 + 36 * S, 1.0, 1.1)]  # a silence of the whole instrument, 16 s
    out, _ = run(ticks)
    stale = [a for a in out.anomalies if a["rule"] == "stale_quote"]
    # 2 s + 10 s is not past the timeout; 13 s is, and 14 s is the same stretch.
    assert [(a["ts"], a["value"], a["threshold"], a["severity"]) for a in stale] == [
        (T0 + 13 * S, 11.0, 10.0, "warning"),
        (T0 + 36 * S, 21.0, 10.0, "warning"),
    ]
    assert "until this trade" in stale[0]["detail"] and "until this quote" in stale[1]["detail"]


@pytest.mark.parametrize(
    ("reason", "reported"),
    [("silence", True), ("stale", False), ("disconnect", False), ("sequence", False)],
)
def test_a_silence_a_gap_event_explains_is_no_stale_quote(reason: str, reported: bool) -> None:
    # The instrument's feed lost the stretch (a disconnect, a recycled connection, lost
    # messages): the quote may have moved unseen. Only a silence of the instrument alone counts.
    gap = tick("gap", T0 + 2 * S, gap_end_ts=T0 + 17 * S, gap_reason=reason)
    ticks = [quote(T0 + i * S, 1.0, 1.1) for i in range(3)] + [gap, quote(T0 + 17 * S, 1.0, 1.1)]
    ticks += [quote(T0 + 18 * S, 1.0, 1.1), tick("trade", T0 + 29 * S, last_traded_price=1.05)]
    out, _ = run(ticks)
    stale = [(a["ts"], a["value"]) for a in out.anomalies if a["rule"] == "stale_quote"]
    # Either way the next silence is judged afresh: 18 s + 10 s < 29 s.
    assert stale == ([(T0 + 17 * S, 15.0)] if reported else []) + [(T0 + 29 * S, 11.0)]


def test_instruments_are_judged_apart_so_a_lone_instrument_is_judged_too() -> None:
    engine = SignalEngine(SignalsConfig())
    states = {n: engine.new_state("sim", n) for n in ("ADA-USD", "DOT-USD")}
    out = Emitted()
    busy = [quote(T0 + i * S, 9.0, 9.1, "DOT-USD") for i in range(30)]
    for t in [quote(T0, 1.0, 1.1, "ADA-USD"), *busy, quote(T0 + 30 * S, 1.0, 1.1, "ADA-USD")]:
        engine.apply(states[t["instrument"]], t, out)
    stale = [(a["instrument"], a["ts"]) for a in out.anomalies if a["rule"] == "stale_quote"]
    assert stale == [("ADA-USD", T0 + 30 * S)]

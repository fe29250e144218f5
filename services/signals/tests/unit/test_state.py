"""InstrumentState as JSON: stopping a stream anywhere, storing the state as JSON and going on from
the restored state gives exactly the outputs of one uninterrupted run; the state stays bounded."""

from __future__ import annotations

import json
import math
import random
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickwire_signals.domain import Emitted, InstrumentState, SignalEngine, SignalsConfig
from tickwire_signals.domain.config import BarInterval, ZScoreParams

T0 = 1_700_006_400_000_000  # 2023-11-15T00:00:00Z
S = 1_000_000
# Small windows, so that short streams reach every rule, feature and window slide.
CONFIG = SignalsConfig(
    zscore=ZScoreParams(window=12, min_points=4, warn=1.5, critical=2.5, rebase_after=2),
    bar_intervals=(BarInterval("1s", S), BarInterval("2s", 2 * S)),
    allowed_lateness_us=S,
    gap_jump_warn_bps=5.0,
    gap_jump_critical_bps=20.0,
    sma_short=2,
    sma_long=4,
    vwap_window_us=3 * S,
    momentum_window=3,
)
LEVEL = replace(CONFIG, zscore=replace(CONFIG.zscore, method="level"))
KINDS = [
    "quote",
    "quote",
    "trade",
    "trade",
    "ticker",
    "bare_ticker",
    "one_sided",
    "crossed",
    "gap",
    "spike",
    "late",
    "jitter",
]
Step = tuple[str, int, float]


def stream(steps: list[Step]) -> list[dict[str, Any]]:
    """Ticks of one instrument from (kind, event-time step in us, price move) triples."""
    base = {"provider": "sim", "instrument": "BTC-USD-PERP"}
    ticks, ts, price = [], T0, 100.0
    for kind, step, move in steps:
        ts += step
        price *= math.exp(move / 1_000)
        at = {"late": ts - 3 * S, "jitter": ts - 600_000}.get(kind, ts)
        tick = {**base, "kind": "quote", "exchange_ts": at, "received_ts": ts}
        if kind in ("quote", "late", "jitter"):
            tick.update(bid_price=price - 0.01, ask_price=price + 0.01)
        elif kind in ("trade", "spike"):
            traded = price * 1.05 if kind == "spike" else price
            tick.update(kind="trade", last_traded_price=traded, last_traded_volume=abs(move) + 0.1)
        elif kind == "ticker":
            tick.update(kind="ticker", bid_price=price - 0.02, ask_price=price + 0.02)
        elif kind == "bare_ticker":
            tick.update(kind="ticker", last_traded_price=price)
        elif kind == "one_sided":
            tick.update(bid_price=price)
        elif kind == "crossed":
            tick.update(bid_price=price + 0.01, ask_price=price)
        else:
            tick.update(kind="gap", gap_end_ts=ts + 1, gap_reason="sequence")
        ticks.append(tick)
    return ticks


def outputs(out: Emitted) -> tuple[list[Any], list[Any], list[Any]]:
    return out.anomalies, out.bars, out.signals


def run_through(
    ticks: list[dict[str, Any]], split: int | None, config: SignalsConfig = CONFIG
) -> tuple[Any, dict[str, Any]]:
    """All ticks through one state, or through a state restored from JSON after `split` ticks
    (by a new engine, so nothing but the state carries over)."""
    engine = SignalEngine(config)
    state = engine.new_state("sim", "BTC-USD-PERP")
    out = Emitted()
    for offset, tick in enumerate(ticks):
        if offset == split:
            stored = json.dumps(state.to_dict(), allow_nan=False)
            engine = SignalEngine(config)
            state = InstrumentState.from_dict(json.loads(stored))
        engine.apply(state, tick, out, offset=offset)
    engine.advance(state, T0 + 10**12, out)
    return outputs(out), state.to_dict()


steps = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 700_000), st.floats(-3.0, 3.0)),
    min_size=1,
    max_size=250,
)


@settings(max_examples=200, deadline=None)
@given(steps=steps, data=st.data(), level=st.booleans())
def test_a_restored_state_goes_on_exactly_as_one_run(
    steps: list[Step], data: st.DataObject, level: bool
) -> None:
    ticks = stream(steps)
    split = data.draw(st.integers(0, len(ticks)), label="split")
    config = LEVEL if level else CONFIG
    assert run_through(ticks, split, config) == run_through(ticks, None, config)


@pytest.mark.parametrize(("config", "rule"), [(CONFIG, "return_zscore"), (LEVEL, "zscore")])
def test_a_long_stream_split_anywhere_and_the_state_stays_bounded(
    config: SignalsConfig, rule: str
) -> None:
    rng = random.Random(4)
    ticks = stream(
        [(rng.choice(KINDS), rng.randint(0, 400_000), rng.gauss(0, 1.5)) for _ in range(3_000)]
    )
    whole, final = run_through(ticks, None, config)
    anomalies, bars, signals = whole
    # The stream reaches every rule and feature, so the comparison below covers all of them.
    assert {a["rule"] for a in anomalies} == {rule, "crossed_market", "gap_jump", "late_tick"}
    assert {s["name"] for s in signals} >= {
        "mid",
        "spread",
        "spread_bps",
        "vwap",
        "return",
        "sma_2",
        "sma_4",
        "sma_cross",
        "momentum",
    }
    assert {b["source"] for b in bars} == {"trade"}
    for split in range(0, 3_001, 250):
        assert run_through(ticks, split, config) == (whole, final)
    assert final["last_offset"] == 2_999 and final["ticks_applied"] == 3_000
    assert final["late_ticks"] == sum(a["rule"] == "late_tick" for a in anomalies) > 0
    restored = InstrumentState.from_dict(final)
    assert len(restored.zscore.prices) <= 12 and len(restored.vwap) <= 3
    for series in restored.series:
        assert len(series.closes) == 4 and len(series.returns) == 3
    # Open bars: those the watermark (newest event time - 1 s lateness) has not passed yet.
    engine = SignalEngine(config)
    state = engine.new_state("sim", "BTC-USD-PERP")
    most = 0
    for tick in ticks:
        engine.apply(state, tick, Emitted())
        most = max(most, len(state.series[0].open_bars))
        assert len(state.series[1].open_bars) <= 2
    assert most == 2  # ceil(lateness / interval) + 1


def test_a_state_saved_before_the_return_rule_loads_and_warms_it_up_again() -> None:
    ticks = stream([("quote", 100_000, 0.5 * (-1) ** i) for i in range(40)])
    _, final = run_through(ticks, None)
    del final["returns"]  # as the version before the return rule wrote it
    restored = InstrumentState.from_dict(final)
    assert restored.returns.mid.count == 0 and restored.returns.span == 12
    assert restored.to_dict()["zscore"] == final["zscore"]


def test_a_state_saved_before_the_quoted_spread_was_kept_loads_and_judges_as_before() -> None:
    ticks = stream([("quote", 100_000, 0.5 * (-1) ** i) for i in range(40)])
    _, final = run_through(ticks, None)
    assert final["returns"]["spread"][3] == 40  # every quote's spread is kept
    del final["returns"]["spread"]  # as the version before it wrote the state
    restored = InstrumentState.from_dict(final)
    assert restored.returns.spread.count == 0
    assert restored.returns.mid.to_list() == final["returns"]["mid"]
    # Until min_points quotes are seen again, a trade is judged by the trade lane, from the mid.
    engine, out = SignalEngine(CONFIG), Emitted()
    for i, price in enumerate([100.0] * 4 + [100.2, 130.0]):
        trade = {**ticks[-1], "kind": "trade", "exchange_ts": T0 + 10**13 + i, "bid_price": None}
        engine.apply(restored, {**trade, "ask_price": None, "last_traded_price": price}, out)
    (spike,) = [a for a in out.anomalies if a["severity"] == "critical"]
    assert spike["detail"].startswith("trade price 130 moved")


def test_another_format_version_is_refused() -> None:
    data = SignalEngine(CONFIG).new_state("sim", "BTC-USD-PERP").to_dict()
    with pytest.raises(ValueError, match="format"):
        InstrumentState.from_dict({**data, "v": 0})

"""Critical prices the next prices confirm (a jump that stays) against bars computed here with
pandas from every tick: corrected, with the bars they entered re-emitted; a spike that reverts
against the same bars without it: left out, with no correction; and the wait saved and restored."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tickwire_signals.domain import Emitted, InstrumentState, SignalEngine, SignalsConfig
from tickwire_signals.domain.config import BarInterval, ZScoreParams
from tickwire_testing import signals as testing

T0 = 1_700_006_400_000_000  # 2023-11-15T00:00:00Z
S = 1_000_000
STEP = 300_000  # between ticks: five prices span more than one 1s bar
CONFIG = SignalsConfig(
    zscore=ZScoreParams(rebase_after=5),
    bar_intervals=(BarInterval("1s", S), BarInterval("5s", 5 * S)),
    allowed_lateness_us=S // 2,
)
# Ticks 200 and 201 open the 1s bar at 60 s; 202 onwards are 2 % higher. The bar closes at tick
# 205 (61.5 s, lateness 0.5 s), before tick 206, the fifth critical price, confirms the jump.
JUMP = 202


def prices(moved: range, seed: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    walk = 100 * np.exp(np.cumsum(rng.normal(0, 1e-4, 300)))
    walk[list(moved)] *= 1.02
    return walk


def ticks(walk: np.ndarray, lane: str) -> list[dict[str, Any]]:
    if lane == "trade":
        return [
            testing.trade(T0 + i * STEP, float(p), 1.0 + i % 3, instrument="BTC-USD")
            for i, p in enumerate(walk)
        ]
    return [
        testing.quote(T0 + i * STEP, float(p) - 0.01, float(p) + 0.01, instrument="BTC-USD")
        for i, p in enumerate(walk)
    ]


def run(stream: list[dict[str, Any]], engine: SignalEngine, state: InstrumentState) -> Emitted:
    out = Emitted()
    for tick in stream:
        engine.apply(state, tick, out)
    return out


def finish(stream: list[dict[str, Any]]) -> tuple[Emitted, InstrumentState]:
    engine = SignalEngine(CONFIG)
    state = engine.new_state("sim", "BTC-USD")
    out = run(stream, engine, state)
    engine.advance(state, T0 + 3_600 * S, out)  # close every bar
    return out, state


def reference(stream: list[dict[str, Any]], used: list[int], interval_us: int) -> pd.DataFrame:
    """OHLC, volume and count of the ticks `used`, grouped into bars of `interval_us`."""
    frame = pd.DataFrame([stream[i] for i in used])
    if (frame["kind"] == "quote").all():
        frame["price"] = (frame["bid_price"] + frame["ask_price"]) / 2
        frame["volume"] = 0.0
    else:
        frame["price"] = frame["last_traded_price"]
        frame["volume"] = frame["last_traded_volume"]
    frame["start"] = frame["exchange_ts"] - frame["exchange_ts"] % interval_us
    grouped = frame.groupby("start")
    return pd.DataFrame(
        {
            "open": grouped["price"].first(),
            "high": grouped["price"].max(),
            "low": grouped["price"].min(),
            "close": grouped["price"].last(),
            "volume": grouped["volume"].sum(),
            "tick_count": grouped["price"].count(),
        }
    )


def latest(out: Emitted, interval: str) -> pd.DataFrame:
    """The bars as a consumer keeping the highest revision of each start holds them."""
    kept: dict[int, dict[str, Any]] = {}
    for bar in out.bars:
        if bar["interval"] == interval:
            before = kept.get(bar["start_ts"])
            if before is None or bar["revision"] > before["revision"]:
                kept[bar["start_ts"]] = bar
    frame = pd.DataFrame(sorted(kept.values(), key=lambda b: b["start_ts"])).set_index("start_ts")
    return frame[["open", "high", "low", "close", "volume", "tick_count"]]


def assert_bars(out: Emitted, stream: list[dict[str, Any]], used: list[int]) -> None:
    for interval in CONFIG.bar_intervals:
        expected = reference(stream, used, interval.length_us)
        found = latest(out, interval.name)
        assert list(found.index) == list(expected.index)
        for column in expected.columns:
            assert found[column].to_list() == pytest.approx(expected[column].to_list(), rel=1e-12)


@pytest.mark.parametrize("lane", ["trade", "quote"])
def test_a_jump_that_stays_is_confirmed_and_its_bars_corrected(lane: str) -> None:
    stream = ticks(prices(range(JUMP, 300)), lane)
    out, state = finish(stream)
    critical = [a for a in out.anomalies if a["severity"] == "critical"]
    assert [a["ts"] for a in critical] == [T0 + i * STEP for i in range(JUMP, JUMP + 5)]
    confirmed = [a for a in out.anomalies if a["severity"] == "confirmed"]
    # One correction per critical: its key, value and window, and the price that confirmed it.
    assert [a["ts"] for a in confirmed] == [a["ts"] for a in critical]
    for before, after in zip(critical, confirmed, strict=True):
        assert {**after, "severity": "critical", "detail": before["detail"]} == before
        assert f"the last at {T0 + (JUMP + 4) * STEP}" in after["detail"]
    # Every tick in its bar, as if none had been excluded.
    assert_bars(out, stream, list(range(len(stream))))
    # The 1s bar at 60 s closed before the confirmation: emitted without the jump, then again
    # with it as revision 1; no other bar was emitted twice.
    start = T0 + 60 * S
    at_60 = [b for b in out.bars if b["interval"] == "1s" and b["start_ts"] == start]
    assert [(b["revision"], b["tick_count"]) for b in at_60] == [(0, 2), (1, 4)]
    assert at_60[1]["high"] == pytest.approx(max(stream_price(stream[i]) for i in range(200, 204)))
    assert sum(b["revision"] for b in out.bars) == 1
    assert state.excluded_ticks == 0 and not state.pending and not state.held


def stream_price(tick: dict[str, Any]) -> float:
    if tick["kind"] == "trade":
        return float(tick["last_traded_price"])
    return (tick["bid_price"] + tick["ask_price"]) / 2


@pytest.mark.parametrize("length", [1, 2, 4])
def test_a_spike_that_reverts_stays_excluded_and_gets_no_correction(length: int) -> None:
    spike = range(JUMP, JUMP + length)  # four prices outlast the 60 s bar's close
    stream = ticks(prices(spike), "trade")
    out, state = finish(stream)
    critical = [a for a in out.anomalies if a["severity"] == "critical"]
    assert [a["ts"] for a in critical] == [T0 + i * STEP for i in spike]
    assert not [a for a in out.anomalies if a["severity"] == "confirmed"]
    assert_bars(out, stream, [i for i in range(len(stream)) if i not in spike])
    assert all(b["revision"] == 0 for b in out.bars)
    assert state.excluded_ticks == length and not state.pending and not state.held


def test_a_spike_up_then_one_down_confirms_neither() -> None:
    walk = prices(range(JUMP, JUMP + 3))
    walk[JUMP + 3 : JUMP + 5] /= 1.02**2  # a critical on the other side ends the wait
    stream = ticks(walk, "trade")
    out, _ = finish(stream)
    assert len([a for a in out.anomalies if a["severity"] == "critical"]) == 5
    assert not [a for a in out.anomalies if a["severity"] == "confirmed"]
    assert all(b["revision"] == 0 for b in out.bars)


@pytest.mark.parametrize("split", [JUMP + 2, JUMP + 4])
def test_a_state_saved_while_prices_wait_goes_on_as_one_run(split: int) -> None:
    stream = ticks(prices(range(JUMP, 300)), "trade")
    whole, _ = finish(stream)
    engine = SignalEngine(CONFIG)
    state = engine.new_state("sim", "BTC-USD")
    first = run(stream[:split], engine, state)
    assert state.pending and (split < JUMP + 4 or state.held)
    restored = InstrumentState.from_dict(json.loads(json.dumps(state.to_dict())))
    engine = SignalEngine(CONFIG)
    second = run(stream[split:], engine, restored)
    engine.advance(restored, T0 + 3_600 * S, second)
    assert first.anomalies + second.anomalies == whole.anomalies
    assert first.bars + second.bars == whole.bars
    assert first.signals + second.signals == whole.signals


def test_a_state_saved_before_prices_waited_loads_with_none_waiting() -> None:
    stream = ticks(prices(range(JUMP, 300)), "trade")
    engine = SignalEngine(CONFIG)
    state = engine.new_state("sim", "BTC-USD")
    run(stream[:JUMP], engine, state)
    saved = state.to_dict()
    del saved["pending"], saved["held"]
    restored = InstrumentState.from_dict(json.loads(json.dumps(saved)))
    assert restored.pending == [] and restored.held == []
    assert restored.to_dict() == state.to_dict()

"""The return rule against a reference computed here with numpy and pandas' ewm over the same
returns: trades judged by their return, mids per square root of the price events they span."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from tickwire_signals.domain import Emitted, SignalEngine, SignalsConfig
from tickwire_signals.domain.config import ZScoreParams
from tickwire_testing import signals as testing

T0 = 1_700_006_400_000_000  # 2023-11-15T00:00:00Z
# A warn threshold this small reports every judged price, so the whole z series can be compared.
EVERY = ZScoreParams(window=50, min_points=20, warn=1e-9, critical=1e9)


def run(params: ZScoreParams, ticks: list[dict[str, Any]]) -> tuple[Emitted, Any]:
    engine = SignalEngine(SignalsConfig(zscore=params))
    state = engine.new_state("sim", "BTC-USD")
    out = Emitted()
    for tick in ticks:
        engine.apply(state, tick, out)
    return out, state


def trade(i: int, price: float) -> dict[str, Any]:
    return testing.trade(T0 + i * 1_000, float(price), instrument="BTC-USD")


def quote(i: int, mid: float) -> dict[str, Any]:
    return testing.quote(T0 + i * 1_000, mid - 0.01, mid + 0.01, instrument="BTC-USD")


def ewm_scale(returns: np.ndarray, span: int) -> np.ndarray:
    """The scale that judges each return: the larger of the EWMA RMS of the returns before it
    over `span` and over span / 20."""
    squares = pd.Series(returns**2)
    slow = squares.ewm(span=span, adjust=True).mean().shift(1)
    fast = squares.ewm(span=max(2, span // 20), adjust=True).mean().shift(1)
    return np.sqrt(np.maximum(slow, fast).to_numpy())


def test_trade_returns_are_judged_by_the_ewma_volatility_of_the_returns_before_them() -> None:
    rng = np.random.default_rng(5)
    prices = 30_000 * np.exp(np.cumsum(rng.standard_t(4, 400) * 2e-4))
    out, _ = run(EVERY, [trade(i, p) for i, p in enumerate(prices)])
    returns = np.log(prices[1:] / prices[:-1])
    z = returns / ewm_scale(returns, 50)
    judged = np.arange(len(returns)) >= 20  # min_points returns before it
    found = {a["ts"]: a for a in out.anomalies}
    expected_ts = T0 + (np.flatnonzero(judged) + 1) * 1_000
    assert sorted(found) == list(expected_ts)
    for k in np.flatnonzero(judged):
        anomaly = found[T0 + (k + 1) * 1_000]
        assert anomaly["rule"] == "return_zscore"
        assert anomaly["value"] == pytest.approx(z[k], rel=1e-9)
        assert anomaly["window_mean"] == prices[k]
        assert anomaly["window_count"] == min(k, 50)


def test_mids_move_per_root_of_events_and_trades_are_judged_from_the_mid() -> None:
    rng = np.random.default_rng(8)
    n = 600
    mids = 100 * np.exp(np.cumsum(rng.normal(0, 3e-4, n)))
    is_trade = rng.random(n) < 0.3
    is_trade[0] = False
    prices = np.where(is_trade, mids * (1 + rng.choice([-1, 1], n) * 2e-4), mids)
    ticks = [
        trade(i, p) if t else quote(i, p)
        for i, (p, t) in enumerate(zip(prices, is_trade, strict=True))
    ]
    out, _ = run(EVERY, ticks)
    # Each tick's return from the last mid before it; a mid's divided by sqrt(ticks since it).
    last_mid = np.maximum.accumulate(np.where(~is_trade, np.arange(n), 0))
    before = np.concatenate([[0], last_mid[:-1]])
    raw = np.log(prices[1:] / prices[before[1:]])
    steps = np.where(is_trade[1:], 1.0, np.sqrt(np.arange(1, n) - before[1:]))
    returns = raw / steps
    expected: dict[int, float] = {}
    for lane in (is_trade[1:], ~is_trade[1:]):
        k = np.flatnonzero(lane)
        z = returns[k] / ewm_scale(returns[k], 50)
        for j in range(20, len(k)):
            expected[T0 + (k[j] + 1) * 1_000] = z[j]
    found = {a["ts"]: a["value"] for a in out.anomalies}
    assert sorted(found) == sorted(expected)
    assert [found[ts] for ts in sorted(found)] == pytest.approx(
        [expected[ts] for ts in sorted(found)], rel=1e-9
    )


def test_a_spike_is_critical_and_unused_and_the_next_price_is_judged_from_before_it() -> None:
    rng = np.random.default_rng(3)
    prices = list(100 * np.exp(np.cumsum(rng.normal(0, 1e-4, 200))))
    spike = [*prices[:150], prices[149] * 1.01, *prices[150:]]
    out, state = run(ZScoreParams(), [trade(i, p) for i, p in enumerate(spike)])
    critical = [a for a in out.anomalies if a["severity"] == "critical"]
    assert [a["ts"] for a in critical] == [T0 + 150 * 1_000]
    assert critical[0]["value"] > 4.0 and "not used" in critical[0]["detail"]
    assert state.excluded_ticks == 1 and state.last_price == spike[-1]
    # The scale took the spike in clipped at the critical move, so what follows is judged as usual.
    assert not any(a["ts"] == T0 + 151 * 1_000 for a in out.anomalies)


def test_a_lasting_jump_is_accepted_after_rebase_after_criticals() -> None:
    rng = np.random.default_rng(4)
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 1e-4, 300)))
    prices[200:] *= 1.02
    out, state = run(ZScoreParams(rebase_after=3), [trade(i, p) for i, p in enumerate(prices)])
    critical = [a for a in out.anomalies if a["severity"] == "critical"]
    assert [a["ts"] for a in critical] == [T0 + i * 1_000 for i in (200, 201, 202)]
    assert "judged from this one" in critical[-1]["detail"]
    assert state.excluded_ticks == 3 and state.last_price == prices[-1]


def test_the_method_is_a_setting_per_instrument_class() -> None:
    config = SignalsConfig(zscore_overrides={"option": ZScoreParams(method="level", warn=3.0)})
    assert config.zscore_for("BTC-USD").method == "return"
    assert config.zscore_for("BTC-USD-20241227-60000-C").method == "level"
    with pytest.raises(ValueError, match="method must be one of return, level"):
        ZScoreParams(method="median")

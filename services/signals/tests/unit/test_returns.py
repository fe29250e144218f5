"""The return rule against a reference computed here with numpy and pandas' ewm over the same
returns: mids per square root of the price events they span, trades beyond the typical touch."""

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


def book(i: int, mid: float, half: float) -> dict[str, Any]:
    return testing.quote(T0 + i * 1_000, mid - half, mid + half, instrument="BTC-USD")


def ewm_last(values: np.ndarray, span: int) -> np.ndarray:
    """pandas' ewm(adjust=True) mean of values[: j + 1] for each j."""
    return pd.Series(values).ewm(span=span, adjust=True).mean().to_numpy()


def test_mids_move_per_root_of_events_and_trades_are_judged_beyond_the_typical_touch() -> None:
    rng = np.random.default_rng(8)
    n = 900
    mids = 100 * np.exp(np.cumsum(rng.normal(0, 3e-4, n)))
    halves = mids * 2e-4 * rng.exponential(1.0, n)  # each update's half-spread, drawn afresh
    is_trade = rng.random(n) < 0.3
    is_trade[:3] = False
    # A trade prints at its own moment's bid or ask, now and then far beyond it.
    side = rng.choice([-1.0, 1.0], n)
    prices = np.where(is_trade, mids + side * halves * rng.choice([1.0, 1.0, 4.0], n), mids)
    ticks = [
        trade(i, p) if t else book(i, p, h)
        for i, (p, h, t) in enumerate(zip(prices, halves, is_trade, strict=True))
    ]
    out, _ = run(EVERY, ticks)
    # Every return from the last mid before it; a mid's divided by sqrt(ticks since that mid).
    last_mid = np.maximum.accumulate(np.where(~is_trade, np.arange(n), 0))
    before = np.concatenate([[0], last_mid[:-1]])
    raw = np.log(prices[1:] / prices[before[1:]])
    quotes = np.flatnonzero(~is_trade)
    log_halves = np.log((prices + halves) / (prices - halves)) / 2
    mid_k = np.flatnonzero(~is_trade[1:])
    mid_returns = raw[mid_k] / np.sqrt(np.arange(1, n) - before[1:])[mid_k]
    expected: dict[int, float] = {}
    for j in range(20, len(mid_k)):
        expected[T0 + (mid_k[j] + 1) * 1_000] = mid_returns[j] / ewm_scale(mid_returns, 50)[j]
    # A mid's volatility and the quoted spread as they stand after each tick: over the mids and
    # quotes up to it (the quote at index 0 has a spread but no return).
    squares = pd.Series(mid_returns**2)
    vol_after = np.sqrt(
        np.maximum(
            squares.ewm(span=50, adjust=True).mean(), squares.ewm(span=2, adjust=True).mean()
        ).to_numpy()
    )
    mean_after = ewm_last(log_halves[quotes], 50)
    rms_after = np.sqrt(ewm_last(log_halves[quotes] ** 2, 50))
    trades_seen = 0
    for i in np.flatnonzero(is_trade):
        trades_seen += 1
        returns_seen = int(np.searchsorted(mid_k + 1, i))  # mid returns before tick i
        quotes_seen = int(np.searchsorted(quotes, i))
        if trades_seen <= 20 or returns_seen < 20 or quotes_seen < 20:
            continue  # the trade lane warms up first; the judge beyond the touch needs both
        x = raw[i - 1]
        touch = np.sign(x) * mean_after[quotes_seen - 1]
        scale = np.hypot(vol_after[returns_seen - 1], rms_after[quotes_seen - 1])
        if abs(x) > abs(touch):
            expected[T0 + i * 1_000] = (x - touch) / scale
    found = {a["ts"]: a for a in out.anomalies}
    assert sorted(found) == sorted(expected)
    assert [found[ts]["value"] for ts in sorted(found)] == pytest.approx(
        [expected[ts] for ts in sorted(found)], rel=1e-9
    )
    # A trade's record carries the touch it printed beyond and the print's volatility in price
    # units, from which the price it judged comes back exactly.
    beyond = [a for a in found.values() if a["detail"].startswith("trade")]
    assert len(beyond) > 20
    for a in beyond:
        i = (a["ts"] - T0) // 1_000
        assert "beyond the typical touch" in a["detail"]
        price = a["window_mean"] * np.exp(a["value"] * a["window_stddev"] / a["window_mean"])
        assert price == pytest.approx(prices[i], rel=1e-12)


def test_a_trade_at_or_inside_the_touch_is_not_judged_suspicious() -> None:
    rng = np.random.default_rng(9)
    ticks: list[dict[str, Any]] = []
    mid = 100.0
    for i in range(400):
        mid *= float(np.exp(rng.normal(0, 1e-4)))
        if i % 3 == 2:
            # At the bid or the ask of a wide book: far from the mid against its volatility.
            ticks.append(trade(i, mid + rng.choice([-1.0, 1.0]) * mid * 5e-4))
        else:
            ticks.append(book(i, mid, mid * 5e-4))
    out, _ = run(ZScoreParams(), ticks)
    assert [a for a in out.anomalies if "trade" in a["detail"]] == []
    # A print well beyond the touch still is.
    spike = [*ticks, trade(400, mid * 1.01)]
    out, state = run(ZScoreParams(), spike)
    (critical,) = [a for a in out.anomalies if a["severity"] == "critical"]
    assert critical["ts"] == T0 + 400_000 and "beyond the typical touch" in critical["detail"]
    assert state.excluded_ticks == 1


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
    assert "judged from it" in critical[-1]["detail"]
    # The three are a move: confirmed, and used after all.
    confirmed = [a for a in out.anomalies if a["severity"] == "confirmed"]
    assert [a["ts"] for a in confirmed] == [a["ts"] for a in critical]
    assert state.excluded_ticks == 0 and state.last_price == prices[-1] and not state.pending


def test_the_method_is_a_setting_per_instrument_class() -> None:
    config = SignalsConfig(zscore_overrides={"option": ZScoreParams(method="level", warn=3.0)})
    assert config.zscore_for("BTC-USD").method == "return"
    assert config.zscore_for("BTC-USD-20241227-60000-C").method == "level"
    with pytest.raises(ValueError, match="method must be one of return, level"):
        ZScoreParams(method="median")

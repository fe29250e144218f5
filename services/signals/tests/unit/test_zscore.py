"""The rolling z-score rule against pandas' rolling mean and sample std over the same prices: the
judged price is outside its window, fewer than min points cannot judge, nor can equal prices."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from tickwire_signals.domain import Emitted, SignalEngine, SignalsConfig
from tickwire_signals.domain.config import ZScoreParams
from tickwire_signals.domain.zscore import ZWindow
from tickwire_testing import signals as testing

T0 = 1_700_006_400_000_000  # 2023-11-15T00:00:00Z
# A warn threshold this small reports every judged price, so the whole z series can be compared.
EVERY = ZScoreParams(method="level", warn=1e-9, critical=1e9)


def trades(prices: list[float] | np.ndarray) -> list[dict[str, Any]]:
    return [
        testing.trade(T0 + i * 1_000, float(p), instrument="BTC-USD") for i, p in enumerate(prices)
    ]


def run(config: SignalsConfig, ticks: list[dict[str, Any]]) -> tuple[Emitted, Any]:
    engine = SignalEngine(config)
    state = engine.new_state("sim", "BTC-USD")
    out = Emitted()
    for tick in ticks:
        engine.apply(state, tick, out)
    engine.advance(state, T0 + 10**12, out)
    return out, state


def reference(prices: np.ndarray, window: int = 200, min_points: int = 30) -> pd.DataFrame:
    """z of each price against the `window` prices before it (pandas rolling, ddof=1); rows that
    cannot be judged (too few points, all equal) dropped."""
    s = pd.Series(prices, dtype=float)
    prev = s.shift(1).rolling(window, min_periods=min_points)
    frame = pd.DataFrame(
        {"mean": prev.mean(), "std": prev.std(), "count": s.shift(1).rolling(window, 1).count()}
    )
    flat = s.shift(1).rolling(window, min_periods=min_points)
    frame["flat"] = flat.max() == flat.min()
    frame["z"] = (s - frame["mean"]) / frame["std"]
    frame["ts"] = T0 + np.arange(len(s)) * 1_000
    return frame[frame["mean"].notna() & ~frame["flat"]]


def by_ts(out: Emitted, rule: str = "zscore") -> dict[int, dict[str, Any]]:
    """The rule's judgements by ts (corrections, which share their original's ts, left out)."""
    return {a["ts"]: a for a in out.anomalies if a["rule"] == rule and a["severity"] != "confirmed"}


def assert_matches(found: dict[int, dict[str, Any]], expected: pd.DataFrame) -> None:
    assert sorted(found) == list(expected["ts"])
    for row in expected.itertuples():
        anomaly = found[row.ts]
        assert anomaly["value"] == pytest.approx(row.z, rel=1e-9, abs=1e-9)
        assert anomaly["window_mean"] == pytest.approx(row.mean, rel=1e-12)
        assert anomaly["window_stddev"] == pytest.approx(row.std, rel=1e-9)
        assert anomaly["window_count"] == row.count


def test_the_z_series_is_pandas_rolling_of_the_previous_prices_and_the_window_slides() -> None:
    rng = np.random.default_rng(7)
    prices = 100 + np.cumsum(rng.normal(0, 0.02, 600)) * 0.1 + rng.normal(0, 0.05, 600)
    out, _ = run(SignalsConfig(zscore=EVERY), trades(prices))
    found = by_ts(out)
    expected = reference(prices)
    assert_matches(found, expected)
    # Judged from the 31st price on; full at 200 previous prices, sliding afterwards.
    assert min(found) == T0 + 30 * 1_000
    assert found[T0 + 200 * 1_000]["window_count"] == 200
    late = found[T0 + 450 * 1_000]
    assert late["window_count"] == 200
    assert late["window_mean"] == pytest.approx(prices[250:450].mean(), rel=1e-12)


@pytest.mark.parametrize("min_points", [30, 10])
def test_fewer_than_min_points_cannot_judge_even_an_outlier(min_points: int) -> None:
    prices = [100.0 + 0.01 * (i % 3) for i in range(min_points - 1)] + [1000.0, 100.0, 100.01]
    config = SignalsConfig(zscore=ZScoreParams(method="level", min_points=min_points))
    out, _ = run(config, trades(prices))
    # The outlier comes with min_points - 1 prices before it: used, not judged.
    assert by_ts(out) == {}
    assert max(b["high"] for b in out.bars) == 1000.0
    out, _ = run(
        SignalsConfig(
            zscore=ZScoreParams(method="level", warn=1e-9, critical=1e9, min_points=min_points)
        ),
        trades(prices),
    )
    assert_matches(by_ts(out), reference(np.array(prices), min_points=min_points))
    assert min(by_ts(out)) == T0 + min_points * 1_000


def test_equal_prices_cannot_judge() -> None:
    rng = np.random.default_rng(3)
    varied = 100 + rng.normal(0, 0.05, 100)
    prices = np.concatenate([varied, np.full(300, 100.0), [101.0, 102.0]])
    out, _ = run(SignalsConfig(zscore=EVERY), trades(prices))
    found = by_ts(out)
    expected = reference(prices)
    assert_matches(found, expected)
    # Once 200 equal prices fill the window, nothing is judged, not even the jump to 101 ...
    flat_from = T0 + 300 * 1_000
    assert not [ts for ts in found if flat_from <= ts <= T0 + 400 * 1_000]
    # ... which then makes the window judge again.
    assert found[T0 + 401 * 1_000]["window_stddev"] == pytest.approx(
        np.std(prices[201:401], ddof=1)
    )


def test_a_critical_spike_is_reported_and_left_out_of_the_window_and_bars() -> None:
    rng = np.random.default_rng(11)
    clean = 100 + rng.normal(0, 0.05, 400)
    assert reference(clean)["z"].abs().max() < 4.0  # the clean series has no critical point
    prices = np.insert(clean, 250, 101.0)
    out, state = run(
        SignalsConfig(zscore=ZScoreParams(method="level", warn=1e-9, critical=4.0)), trades(prices)
    )
    found = by_ts(out)
    spike = found.pop(T0 + 250 * 1_000)
    window = prices[50:250]
    assert spike["severity"] == "critical"
    assert spike["threshold"] == 4.0
    assert spike["value"] == pytest.approx((101.0 - window.mean()) / window.std(ddof=1), rel=1e-9)
    # Every other z equals the reference of the series without the spike.
    expected = reference(clean)
    expected["ts"] = [ts if ts < T0 + 250 * 1_000 else ts + 1_000 for ts in expected["ts"]]
    assert_matches(found, expected)
    assert all(a["severity"] == "warning" for a in found.values())
    assert max(b["high"] for b in out.bars) < 100.5
    assert sum(b["tick_count"] for b in out.bars if b["interval"] == "1s") == 400
    assert state.excluded_ticks == 1


def test_a_lasting_level_shift_restarts_the_window_after_rebase_after_criticals() -> None:
    rng = np.random.default_rng(5)
    before, after = 100 + rng.normal(0, 0.05, 100), 110 + rng.normal(0, 0.05, 100)
    prices = np.concatenate([before, after])
    params = ZScoreParams(method="level", warn=1e-9, critical=4.0, rebase_after=5)
    out, _ = run(SignalsConfig(zscore=params), trades(prices))
    found = by_ts(out)
    shifted = [found.pop(T0 + i * 1_000) for i in range(100, 105)]
    assert [a["severity"] for a in shifted] == ["critical"] * 5
    confirmed = [a["ts"] for a in out.anomalies if a["severity"] == "confirmed"]
    assert confirmed == [a["ts"] for a in shifted]
    assert "restarts" in shifted[-1]["detail"] and "restarts" not in shifted[-2]["detail"]
    assert_matches({ts: a for ts, a in found.items() if ts < T0 + 100 * 1_000}, reference(before))
    # The window starts again from the 105th price, the fifth critical one (now used).
    expected = reference(after[4:])
    expected["ts"] += 104 * 1_000
    assert_matches({ts: a for ts, a in found.items() if ts >= T0 + 100 * 1_000}, expected)


def test_running_sums_stay_exact_over_long_streams_of_large_prices() -> None:
    rng = np.random.default_rng(1)
    levels = np.repeat([60_000.0, 61_000.0, 59_500.0, 0.0001, 60_000.0], 2_000)
    prices = levels + rng.normal(0, 0.01, levels.size) * np.where(levels < 1, 1e-6, 1)
    window = ZWindow(200)
    for i, price in enumerate(prices):
        window.push(float(price))
        if i >= 1 and i % 37 == 0:
            tail = prices[max(0, i - 199) : i + 1]
            mean, std = window.mean_stddev()
            assert mean == pytest.approx(tail.mean(), rel=1e-12)
            assert std == pytest.approx(tail.std(ddof=1), rel=1e-6)

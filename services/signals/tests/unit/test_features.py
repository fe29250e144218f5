"""Features at bar close against pandas over the same ticks: mid and spread, VWAP and its window,
returns, SMAs and their crossings, momentum, and the daily return."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tickwire_signals.domain import Emitted, SignalEngine, SignalsConfig
from tickwire_signals.domain.config import DAY_US, BarInterval, ZScoreParams
from tickwire_testing import signals as testing

INSTRUMENT = "SOL-USD"
trade = partial(testing.trade, instrument=INSTRUMENT)
quote = partial(testing.quote, instrument=INSTRUMENT)
T0 = 1_700_006_400_000_000  # 2023-11-15T00:00:00Z
S = 1_000_000
QUIET = ZScoreParams(warn=1e6, critical=1e6)  # every price used


def run(ticks: list[dict[str, Any]], config: SignalsConfig | None = None) -> Emitted:
    engine = SignalEngine(config or SignalsConfig(zscore=QUIET))
    state = engine.new_state("sim", "SOL-USD")
    out = Emitted()
    for tick in sorted(ticks, key=lambda t: t["exchange_ts"]):
        engine.apply(state, tick, out)
    engine.advance(state, T0 + 10**13, out)
    return out


def values(out: Emitted, name: str, interval: str = "1s") -> dict[int, float]:
    found = [
        s for s in out.signals if s["name"] == name and s["parameters"]["interval"] == interval
    ]
    assert len({s["ts"] for s in found}) == len(found)
    return {s["ts"]: s["value"] for s in found}


def last_per_second(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.sort_values("ts", kind="stable").assign(end=lambda f: f.ts // S * S + S)
    return frame.groupby("end").last()


def test_mid_and_spread_are_the_last_quote_of_each_finest_bar() -> None:
    rng = np.random.default_rng(8)
    ts = T0 + rng.integers(0, 120 * S, 2_000)
    bids = 20 + rng.normal(0, 0.05, ts.size)
    asks = bids + rng.uniform(0.001, 0.05, ts.size)
    out = run([quote(int(t), float(b), float(a)) for t, b, a in zip(ts, bids, asks, strict=True)])
    last = last_per_second(pd.DataFrame({"ts": ts, "bid": bids, "ask": asks}))
    mid = (last.bid + last.ask) / 2
    assert values(out, "mid") == dict(zip(last.index, mid, strict=True))
    assert values(out, "spread") == dict(zip(last.index, last.ask - last.bid, strict=True))
    bps = values(out, "spread_bps")
    assert list(bps) == list(last.index)
    assert list(bps.values()) == pytest.approx(list((last.ask - last.bid) / mid * 1e4), rel=1e-12)
    assert values(out, "mid", "1m") == {}  # sampled once per finest bar only


def test_vwap_covers_the_trades_of_its_window_and_expires_with_them() -> None:
    rng = np.random.default_rng(9)
    ts = T0 + rng.integers(0, 20 * S, 300)
    prices = 30 + rng.normal(0, 0.2, ts.size)
    volumes = rng.uniform(0.1, 5, ts.size)
    quotes = [quote(T0 + i * 250_000, 29.9, 30.1) for i in range(160)]  # 0 .. 40 s
    trades = [
        trade(int(t), float(p), float(v)) for t, p, v in zip(ts, prices, volumes, strict=True)
    ]
    config = SignalsConfig(zscore=QUIET, vwap_window_us=10 * S)
    out = run(quotes + trades, config)
    expected = {}
    for end in range(T0 + S, T0 + 41 * S, S):
        inside = (ts >= end - 10 * S) & (ts < end)
        if inside.any():
            expected[end] = float((prices[inside] * volumes[inside]).sum() / volumes[inside].sum())
    found = values(out, "vwap")
    assert list(found) == list(expected)
    assert list(found.values()) == pytest.approx(list(expected.values()), rel=1e-12)
    assert max(found) == T0 + 29 * S  # the last trades (before 20 s) leave the window at 30 s
    params = next(s["parameters"] for s in out.signals if s["name"] == "vwap")
    assert params == {"interval": "1s", "window": "10s"}


def test_returns_smas_and_their_crossings_follow_the_closes() -> None:
    k = np.arange(400)
    prices = 100 + 5 * np.sin(2 * np.pi * k / 120) + 0.01 * (k % 3)
    out = run([trade(T0 + int(i) * S + 500_000, float(p)) for i, p in zip(k, prices, strict=True)])
    close = pd.Series(prices, index=T0 + (k + 1) * S)
    ret = np.log(close).diff().dropna()
    sma20, sma50 = close.rolling(20).mean().dropna(), close.rolling(50).mean().dropna()
    for name, series in (("return", ret), ("sma_20", sma20), ("sma_50", sma50)):
        found = values(out, name)
        assert list(found) == list(series.index)
        assert list(found.values()) == pytest.approx(list(series), rel=1e-12)
    relation = np.sign(sma20[sma50.index] - sma50)
    held = relation.replace(0, np.nan).ffill()
    flips = relation[(relation != 0) & held.shift().notna() & (relation != held.shift())]
    assert len(flips) >= 4 and set(flips) == {1.0, -1.0}
    assert values(out, "sma_cross") == dict(flips.astype(float))
    params = next(s["parameters"] for s in out.signals if s["name"] == "sma_cross")
    assert params == {"interval": "1s", "short": "20", "long": "50"}


def test_momentum_weights_bar_returns_by_volume_and_mid_bars_equally() -> None:
    rng = np.random.default_rng(12)
    ts = T0 + np.repeat(np.arange(120), 3) * S + rng.integers(0, S, 360)
    prices = 40 + np.cumsum(rng.normal(0, 0.05, ts.size))
    volumes = rng.uniform(0.5, 3, ts.size)
    frame = pd.DataFrame({"ts": ts, "price": prices, "volume": volumes})
    out = run([trade(int(t), float(p), float(v)) for t, p, v in frame.itertuples(index=False)])
    bars = frame.sort_values("ts", kind="stable").groupby(frame.ts // S * S + S)
    close, volume = bars.price.last(), bars.volume.sum()
    ret = np.log(close).diff()
    expected = ((ret * volume).rolling(20).sum() / volume[ret.notna()].rolling(20).sum()).dropna()
    found = values(out, "momentum")
    assert list(found) == list(expected.index)
    assert list(found.values()) == pytest.approx(list(expected), rel=1e-9)
    mids = [quote(T0 + i * S, float(p) - 0.01, float(p) + 0.01) for i, p in enumerate(prices[:80])]
    out = run(mids)
    equal = (
        np.log(pd.Series(prices[:80], index=T0 + np.arange(1, 81) * S)).diff().rolling(20).mean()
    )
    assert values(out, "momentum") == pytest.approx(dict(equal.dropna()), rel=1e-9, abs=1e-12)
    params = {s["parameters"]["weighting"] for s in out.signals if s["name"] == "momentum"}
    assert params == {"equal"}


def test_daily_return_on_the_first_bar_of_a_new_utc_day() -> None:
    rng = np.random.default_rng(13)
    hour = 3_600 * S
    config = SignalsConfig(
        zscore=QUIET, bar_intervals=(BarInterval("1h", hour),), vwap_window_us=hour
    )
    minutes = [m for m in range(0, 5 * 1440, 20) if m // 1440 != 3]  # day 3 has no trades
    ts = T0 + np.array(minutes) * 60 * S + 7 * S
    prices = 70 * np.exp(np.cumsum(rng.normal(0, 0.002, ts.size)))
    out = run([trade(int(t), float(p)) for t, p in zip(ts, prices, strict=True)], config)
    day = (ts - T0) // DAY_US
    last_close = pd.Series(prices).groupby(day).last()
    expected = {
        T0 + DAY_US: (np.log(last_close[0] / prices[0]), "first_open", "2023-11-15"),
        T0 + 2 * DAY_US: (np.log(last_close[1] / last_close[0]), "previous_close", "2023-11-16"),
        T0 + 3 * DAY_US: (np.log(last_close[2] / last_close[1]), "previous_close", "2023-11-17"),
    }
    found = [s for s in out.signals if s["name"] == "daily_return"]
    assert [s["ts"] for s in found] == list(expected)
    for signal in found:
        value, reference, day_name = expected[signal["ts"]]
        assert signal["value"] == pytest.approx(value, rel=1e-12)
        assert signal["parameters"] == {"interval": "1h", "day": day_name, "reference": reference}

"""Bars on event time against a pandas groupby on floor(exchange_ts / interval): trade bars, mid
bars, the switch at the first trade, out-of-order ticks, late ticks and outside watermarks."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from tickwire_signals.domain import Emitted, SignalEngine, SignalsConfig
from tickwire_signals.domain.config import ZScoreParams
from tickwire_testing import signals as testing

INSTRUMENT = "ETH-USD"
trade = partial(testing.trade, instrument=INSTRUMENT)
quote = partial(testing.quote, instrument=INSTRUMENT)
T0 = 1_700_006_400_000_000  # 2023-11-15T00:00:00Z
S = 1_000_000
# Thresholds nothing reaches: these tests are about bars, every price is used.
CONFIG = SignalsConfig(zscore=ZScoreParams(warn=1e6, critical=1e6, method="level"))
INTERVALS = {"1s": S, "1m": 60 * S}


def run(ticks: list[dict[str, Any]], close_all: bool = True) -> tuple[Emitted, Any, SignalEngine]:
    engine = SignalEngine(CONFIG)
    state = engine.new_state("sim", "ETH-USD")
    out = Emitted()
    for tick in ticks:
        engine.apply(state, tick, out)
    if close_all:
        engine.advance(state, T0 + 10**12, out)
    return out, state, engine


def reference(frame: pd.DataFrame, interval: str, source: str) -> list[dict[str, Any]]:
    """OHLCV of (ts, price, volume) rows per floor(ts / interval), in arrival order within equal
    timestamps (a stable sort), as bar records."""
    length = INTERVALS[interval]
    frame = frame.sort_values("ts", kind="stable").assign(start=lambda f: f.ts // length * length)
    groups = frame.groupby("start", sort=True).agg(
        open=("price", "first"),
        high=("price", "max"),
        low=("price", "min"),
        close=("price", "last"),
        volume=("volume", "sum"),
        tick_count=("price", "size"),
    )
    return [
        {
            "provider": "sim",
            "instrument": "ETH-USD",
            "interval": interval,
            "start_ts": int(start),
            "open": row.open,
            "high": row.high,
            "low": row.low,
            "close": row.close,
            "volume": float(row.volume),
            "tick_count": int(row.tick_count),
            "source": source,
            "revision": 0,
        }
        for start, row in zip(groups.index, groups.itertuples(), strict=True)
    ]


def bars(out: Emitted, interval: str) -> list[dict[str, Any]]:
    return [b for b in out.bars if b["interval"] == interval]


def random_trades(n: int, seconds: int, seed: int) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ts = np.sort(T0 + rng.integers(0, seconds * S, n))
    ts = ts - rng.integers(0, 900_000, n)  # arrival order differs from event order by < 1 s
    prices = np.round(2000 + np.cumsum(rng.normal(0, 0.5, n)), 2)
    volumes = rng.integers(1, 40, n) / 4  # quarters: sums are exact in any order
    frame = pd.DataFrame({"ts": ts, "price": prices, "volume": volumes})
    return [
        trade(int(t), float(p), float(v)) for t, p, v in zip(ts, prices, volumes, strict=True)
    ], frame


def test_trade_bars_are_the_groupby_of_trades_on_event_time() -> None:
    ticks, frame = random_trades(3_000, 300, seed=2)
    out, state, _ = run(ticks)
    assert state.late_ticks == 0
    for interval in INTERVALS:
        assert bars(out, interval) == reference(frame, interval, "trade")
    ends = [b["start_ts"] + INTERVALS[b["interval"]] for b in out.bars]
    assert ends == sorted(ends)


def test_open_and_close_follow_event_time_not_arrival() -> None:
    out, _, _ = run(
        [
            trade(T0 + 500_000, 1.0),
            trade(T0 + 200_000, 2.0),
            trade(T0 + 200_000, 3.0),
            trade(T0 + 900_000, 4.0),
            trade(T0 + 900_000, 5.0),
        ]
    )
    (bar,) = bars(out, "1s")
    assert (bar["open"], bar["close"], bar["high"], bar["low"]) == (2.0, 5.0, 5.0, 1.0)


def test_an_instrument_that_never_traded_gets_mid_bars() -> None:
    rng = np.random.default_rng(4)
    ts = np.sort(T0 + rng.integers(0, 180 * S, 1_500))
    bids = np.round(50 + np.cumsum(rng.normal(0, 0.01, ts.size)), 3)
    asks = bids + rng.integers(1, 5, ts.size) / 1000
    out, _, _ = run(
        [quote(int(t), float(b), float(a)) for t, b, a in zip(ts, bids, asks, strict=True)]
    )
    frame = pd.DataFrame({"ts": ts, "price": (bids + asks) / 2, "volume": 0.0})
    for interval in INTERVALS:
        assert bars(out, interval) == reference(frame, interval, "mid")


def test_mid_bars_stop_at_the_first_trade_and_bars_without_trades_follow_none() -> None:
    quotes = [quote(T0 + i * 250_000, 10.0 + i / 100, 10.02 + i / 100) for i in range(80)]  # 0-20 s
    trades = [trade(T0 + 10_500_000 + i * 2 * S, 11.0 + i / 10, 2.0) for i in range(5)]  # 10.5-18.5
    ticks = sorted(quotes + trades, key=lambda t: t["exchange_ts"])
    out, _, _ = run(ticks)
    q = pd.DataFrame(
        {
            "ts": [t["exchange_ts"] for t in quotes],
            "price": [(t["bid_price"] + t["ask_price"]) / 2 for t in quotes],
            "volume": 0.0,
        }
    )
    t = pd.DataFrame(
        {
            "ts": [t["exchange_ts"] for t in trades],
            "price": [t["last_traded_price"] for t in trades],
            "volume": 2.0,
        }
    )
    expected = reference(q[q.ts < T0 + 10 * S], "1s", "mid") + reference(t, "1s", "trade")
    assert bars(out, "1s") == sorted(expected, key=lambda b: b["start_ts"])
    assert bars(out, "1m") == reference(t, "1m", "trade")


def test_a_late_tick_is_counted_and_reported_and_changes_no_bar() -> None:
    ticks = [trade(T0 + i * 100_000, 100.0 + i % 7, 1.0) for i in range(101)]  # 0 s .. 10 s
    late = trade(T0 + 5_500_000, 999.0, 50.0)
    on_time = [trade(T0 + 7_999_999, 1.0), trade(T0 + 8 * S, 2.0)]  # watermark is 8 s
    out, state, _ = run([*ticks, late, *on_time])
    reported = [a for a in out.anomalies if a["rule"] == "late_tick"]
    assert [(a["ts"], a["severity"], a["value"], a["threshold"]) for a in reported] == [
        (T0 + 5_500_000, "warning", 4.5, 2.0),
        (T0 + 7_999_999, "warning", 2.000001, 2.0),
    ]
    assert state.late_ticks == 2
    frame = pd.DataFrame(
        {
            "ts": [t["exchange_ts"] for t in [*ticks, on_time[1]]],
            "price": [t["last_traded_price"] for t in [*ticks, on_time[1]]],
            "volume": 1.0,
        }
    )
    for interval in INTERVALS:
        assert bars(out, interval) == reference(frame, interval, "trade")


def test_an_outside_watermark_closes_bars_once_and_makes_older_ticks_late() -> None:
    out, state, engine = run([trade(T0 + i * 300_000, 5.0 + i) for i in range(10)], close_all=False)
    assert bars(out, "1s") == []  # own watermark: 2.7 s - 2 s; no bar has ended before it
    engine.advance(state, T0 + 100 * S, out)
    assert [b["start_ts"] for b in bars(out, "1s")] == [T0, T0 + S, T0 + 2 * S]
    assert [b["tick_count"] for b in bars(out, "1m")] == [10]
    emitted = len(out.bars)
    engine.advance(state, T0 + 100 * S, out)
    engine.advance(state, T0 + 50 * S, out)
    engine.apply(state, trade(T0 + 99 * S, 1.0), out)
    assert len(out.bars) == emitted
    assert state.late_ticks == 1 and out.anomalies[-1]["value"] == 3.0


def test_tickers_feed_mid_bars_from_their_book_and_no_bar_from_their_last_price() -> None:
    ticker = {"provider": "sim", "instrument": "ETH-USD", "kind": "ticker", "received_ts": T0}
    ticks = [
        {**ticker, "exchange_ts": T0, "last_traded_price": 7.0},
        {
            **ticker,
            "exchange_ts": T0 + 1,
            "bid_price": 9.0,
            "ask_price": 11.0,
            "last_traded_price": 3.0,
        },
    ]
    out, state, _ = run(ticks)
    assert [(b["open"], b["tick_count"], b["source"]) for b in bars(out, "1s")] == [
        (10.0, 1, "mid")
    ]
    assert list(state.zscore.prices) == [7.0, 10.0]


def test_the_first_trade_is_the_earliest_in_event_time_not_the_first_to_arrive() -> None:
    quotes = [quote(T0 + i * 250_000, 10.0, 10.02) for i in range(52)]  # 0 .. 12.75 s
    ticks = [*quotes[:51], trade(T0 + 12_500_000, 10.01), trade(T0 + 10_500_000, 10.03)]
    out, _, _ = run([*ticks, quotes[51]])
    # [11 s, 12 s) has quotes only, after the trade at 10.5 s: no bar; before it, mid bars.
    assert [(b["start_ts"] - T0) // S for b in bars(out, "1s")] == [*range(10), 10, 12]
    assert [b["source"] for b in bars(out, "1s")] == ["mid"] * 10 + ["trade", "trade"]

"""SMA-20/50, crossovers and returns against pandas over the same closes: window edges (19, 20,
49, 50 bars), constant prices, a zero close."""

import itertools
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from tickwire_api.domain.indicators import indicators, series_points


def reference(closes: list[float]) -> pd.DataFrame:
    s = pd.Series(closes, dtype="float64")
    frame = pd.DataFrame(
        {
            "sma_20": s.rolling(20).mean(),
            "sma_50": s.rolling(50).mean(),
            "ret": s.pct_change(fill_method=None),
        }
    )
    diff = (frame.sma_20 - frame.sma_50).tolist()  # NaN until both windows are full
    cross: list[str | None] = [None]
    for before, now in itertools.pairwise(diff):
        if np.isnan(before) or np.isnan(now):
            cross.append(None)
        elif before <= 0 < now:
            cross.append("above")
        elif before >= 0 > now:
            cross.append("below")
        else:
            cross.append(None)
    frame["cross"] = pd.Series(cross[: len(frame)], dtype="object")
    return frame


def as_list(values: pd.Series) -> list[float | None]:
    return [None if pd.isna(v) else float(v) for v in values]


@pytest.mark.parametrize("n", [1, 19, 20, 21, 49, 50, 51, 300])
def test_matches_pandas_at_every_window_edge(n: int) -> None:
    rng = np.random.default_rng(n)
    closes = list(100 + np.cumsum(rng.normal(0, 1, n)))
    points = indicators(closes)
    want = reference(closes)
    assert [p.close for p in points] == closes
    for name in ("sma_20", "sma_50", "ret"):
        got = [getattr(p, name) for p in points]
        expected = as_list(want[name])
        assert [g is None for g in got] == [e is None for e in expected], name
        assert [g for g in got if g is not None] == pytest.approx(
            [e for e in expected if e is not None], rel=1e-12
        ), name
    assert [p.cross for p in points] == list(want["cross"])


def test_a_trend_reversal_crosses_below_then_above() -> None:
    closes = [float(x) for x in range(1, 81)] + [float(x) for x in range(80, 0, -1)]
    closes += [float(x) for x in range(1, 121)]
    points = indicators(closes)
    crosses = [(i, p.cross) for i, p in enumerate(points) if p.cross]
    assert [c for _, c in crosses] == ["below", "above"]
    assert crosses == [(i, c) for i, c in enumerate(reference(closes)["cross"]) if c is not None]


def test_constant_prices_have_flat_means_no_returns_and_no_crosses() -> None:
    points = indicators([42.0] * 60)
    assert {p.sma_20 for p in points[19:]} == {42.0}
    assert {p.sma_50 for p in points[49:]} == {42.0}
    assert {p.ret for p in points[1:]} == {0.0}
    assert all(p.cross is None for p in points)


def test_a_zero_close_gives_no_return_after_it_rather_than_infinity() -> None:
    points = indicators([1.0, 0.0, 2.0])
    assert [p.ret for p in points] == [None, -1.0, None]
    assert not any(p.ret is not None and math.isinf(p.ret) for p in points)


def test_series_points_keep_providers_and_sources_apart_and_start_at_start() -> None:
    t0 = datetime(2023, 11, 14, tzinfo=UTC)
    minute = timedelta(minutes=1)

    def bar(provider: str, source: str, i: int, close: float) -> dict[str, object]:
        return {"provider": provider, "source": source, "start_ts": t0 + i * minute, "close": close}

    # Given out of order: the bars of each series are put in time order before any window.
    bars = [bar("b", "trade", i, 10.0 * (i + 1)) for i in (2, 0, 1)]
    bars += [bar("a", "mid", i, 1.0 + i) for i in range(3)]
    points = series_points(bars, t0 + minute)
    assert [(p["start_ts"], p["provider"], p["source"]) for p in points] == [
        (t0 + minute, "a", "mid"),
        (t0 + minute, "b", "trade"),
        (t0 + 2 * minute, "a", "mid"),
        (t0 + 2 * minute, "b", "trade"),
    ]
    # The bar before start is read for the return, not shown; each series its own.
    assert [p["return"] for p in points] == [1.0, 1.0, 0.5, 0.5]
    assert points[1] == {
        "provider": "b",
        "source": "trade",
        "start_ts": t0 + minute,
        "close": 20.0,
        "sma_20": None,
        "sma_50": None,
        "return": 1.0,
        "cross": None,
    }

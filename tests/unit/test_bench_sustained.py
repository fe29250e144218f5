"""The sustained end-to-end run's arithmetic: its window, each process's CPU a tick, the rate the
cores allow at that cost, and the stored-exactly-once verdict."""

import pytest

from tests.unit.benchmark_modules import load_benchmark

figures = load_benchmark("sustained_figures")


def test_the_window_rate_counts_only_ticks_stored_inside_it() -> None:
    window = figures.Window(
        began=120.0, ended=600.0, stored_at_begin=400_000, stored_at_end=1_840_000
    )
    assert (window.seconds, window.ticks, window.rate) == (480.0, 1_440_000, 3_000.0)
    assert figures.Window(5.0, 5.0, 0, 0).rate == 0.0


def test_cpu_is_shared_out_per_tick_and_the_cores_bound_the_rate() -> None:
    before = {"normalize": 10.0, "sink": 4.0}
    after = {"normalize": 120.0, "sink": 59.0, "api": 2.0}  # api: no reading before, counted from 0
    per_tick = figures.cpu_per_tick_us(before, after, 1_000_000)
    assert per_tick == pytest.approx({"normalize": 110.0, "sink": 55.0, "api": 2.0})
    # 167 us a tick on 2 cores: 2e6 / 167 ticks a second at most.
    assert figures.ceiling(per_tick, 2) == pytest.approx(2e6 / 167)
    with pytest.raises(ValueError, match="no tick was stored"):
        figures.cpu_per_tick_us(before, after, 0)


def test_every_published_tick_stored_once_or_the_verdict_says_what_is_wrong() -> None:
    assert figures.Stored(1_000, 1_000, 1_000, 1, 1_000).ok
    lost = figures.Stored(1_000, 998, 998, 1, 1_000)
    assert not lost.ok and (lost.lost, lost.duplicated) == (2, 0)
    assert "NO: 998 rows" in lost.describe() and "2 lost, 0 duplicated" in lost.describe()
    doubled = figures.Stored(1_000, 1_001, 1_000, 1, 1_000)
    assert not doubled.ok and doubled.duplicated == 1
    # Right count but the wrong numbers (a sequence from another instance): not ok.
    assert not figures.Stored(1_000, 1_000, 1_000, 2, 1_001).ok
    assert not figures.Stored(0, 0, 0, None, None).ok  # nothing published is no proof

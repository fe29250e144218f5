"""The benchmarks' rates over a measured window: a count per unit spent, and none (not a division
by zero) when a run was too small for its window to count anything or see time pass."""

from tests.unit.benchmark_modules import load_benchmark

per = load_benchmark("bench_rates").per


def test_a_rate_is_the_count_per_unit_spent() -> None:
    assert per(45_000, 2.25) == 20_000
    assert per(1, 0.004) == 250


def test_a_window_that_counted_nothing_or_saw_no_time_pass_has_no_rate() -> None:
    assert per(0, 1.5) is None  # every row written by the first reading of the counter
    assert per(4_900, 0.0) is None  # CPU under one tick of the kernel's clock
    assert per(0, 0.0) is None
    assert per(10, -0.01) is None

"""The benchmarks' shared figures: nearest-rank percentiles, the JSON results folder, and the
summary table's verdicts and ratios against the limits measured in the same run."""

import json
from pathlib import Path

import pytest

from tests.unit.benchmark_modules import load_benchmark

results = load_benchmark("bench_results")
summary = load_benchmark("summary")


def test_percentiles_are_samples_a_tick_had_by_nearest_rank() -> None:
    samples = [float(ms) for ms in range(100, 0, -1)]  # 1..100, unsorted
    assert results.latency_summary(samples) == {"count": 100, "p50": 50, "p99": 99, "max": 100}
    few = results.latency_summary([3.0, 1.0, 2.0])
    assert (few["p50"], few["p99"], few["max"]) == (2.0, 3.0, 3.0)
    assert results.percentile([7.5], 0.99) == 7.5


def test_percentiles_of_nothing_or_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="no samples"):
        results.latency_summary([])
    with pytest.raises(ValueError, match="not in"):
        results.percentile([1.0], 0.0)


def test_figures_are_written_only_where_a_folder_is_named_and_merged(tmp_path: Path) -> None:
    assert results.record("tick_latency", {"a": 1.0}, environ={}) is None
    env = {results.RESULTS_DIR_VARIABLE: str(tmp_path / "run")}
    results.record("tick_latency", {"a": 1.0, "b": 2.0}, environ=env)
    path = results.record("tick_latency", {"b": 3.0}, environ=env)
    assert path is not None and json.loads(path.read_text()) == {"a": 1.0, "b": 3.0}
    assert results.load_all(tmp_path / "run") == {"tick_latency": {"a": 1.0, "b": 3.0}}


def test_a_results_file_that_is_not_an_object_is_named(tmp_path: Path) -> None:
    (tmp_path / "sink_throughput.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"sink_throughput\.json"):
        results.load_all(tmp_path)


def _cells(results_by_benchmark: dict[str, dict[str, float]], label: str) -> tuple[str, ...]:
    row = next(row for row in summary.ROWS if row.label == label)
    return tuple(summary.cells(row, results_by_benchmark))


RECORDED = {
    "e2e_sustained": {"ticks_per_s": 7_441.0},
    "broker_ceiling": {"producer_records_per_s": 215_000.0},
    "tick_latency": {"queryable_p99_ms@5000": 312.5, "queryable_p99_ms@1000": 90.0},
    "sink_throughput": {"rows_per_s": 20_649.0, "times_naive": 14.0},
}


def test_a_figure_stands_beside_its_target_its_limit_and_the_ratio() -> None:
    assert _cells(RECORDED, "end to end, every service, sustained") == (
        "end to end, every service, sustained",
        "7,441 ticks/s",
        ">= 15,000 ticks/s: missed",
        "Kafka producer tool 215,000 records/s",
        "0.03",
    )
    assert _cells(RECORDED, "tick -> queryable p99 at 5,000/s")[1:] == (
        "312.50 ms",
        "<= 250.00 ms: missed",
        "",
        "",
    )
    # No target at the lower rate, and no limit for a latency.
    assert _cells(RECORDED, "tick -> queryable p99 at 1,000/s")[1:] == ("90.00 ms", "", "", "")
    # The limit's benchmark did not run: no ratio rather than a made-up one.
    assert _cells(RECORDED, "sink, one process")[1:] == (
        "20,649 rows/s",
        ">= 50,000 rows/s: missed",
        "not run",
        "",
    )


def test_the_table_is_aligned_under_its_header() -> None:
    lines = summary.table(RECORDED).splitlines()
    assert lines[0].split() == ["figure", "measured", "target", "limit", "ratio"]
    assert set(lines[1]) == {"-", " "}
    assert len(lines) == 2 + len(summary.ROWS)
    column = lines[0].index("measured")
    e2e = next(line for line in lines if line.startswith("end to end"))
    assert e2e[column:].startswith("7,441 ticks/s")


def test_figures_no_benchmark_recorded_read_not_run() -> None:
    lines = summary.table({}).splitlines()
    normalize = next(line for line in lines if line.startswith("normalize"))
    assert [c.strip() for c in normalize.split("  ") if c] == [
        "normalize, one process",
        "not run",
        ">= 25,000 ticks/s: not run",
        "not run",
    ]


def test_a_target_met_from_either_side() -> None:
    latency = summary.Row("p99", ("b", "f"), "ms", 250, at_least=False)
    rate = summary.Row("rate", ("b", "g"), "ticks/s", 15_000)
    recorded = {"b": {"f": 250.0, "g": 15_000.0}}
    assert summary.cells(latency, recorded)[2] == "<= 250.00 ms: met"
    assert summary.cells(rate, recorded)[2] == ">= 15,000 ticks/s: met"


def test_a_missed_target_is_followed_by_the_cpu_its_benchmark_counted() -> None:
    recorded = {
        "e2e_sustained": {
            "ticks_per_s": 3_900.0,
            "bound_per_s": 4_000.0,
            "cpu_us_per_tick:normalize": 110.0,
            "cpu_us_per_tick:ingest": 90.0,
            "cpu_us_per_tick:api": None,
        },
        "normalize_throughput": {"ticks_per_s": 30_000.0, "bound_per_s": 31_000.0},
        "sink_throughput": {"rows_per_s": 8_000.0},  # no bound recorded: nothing to say
        "signals_throughput": {"ticks_per_s": 30_000.0},
    }
    (line,) = summary.bounds(recorded)
    assert line.startswith("end to end, every service, sustained: 3,900 ticks/s against 15,000")
    assert "CPU us each: normalize 110.0, ingest 90.0;" in line  # costliest first, None left out
    assert "all the cores: at most 4,000 ticks/s" in line
    assert line.endswith("needs 0.27 of today's CPU cost")  # 4,000 / 15,000


def test_nothing_to_explain_where_every_target_is_met() -> None:
    assert (
        summary.bounds({"signals_throughput": {"ticks_per_s": 20_000.0, "bound_per_s": 1.0}}) == []
    )


def test_a_bound_is_given_only_for_the_figure_it_was_counted_for() -> None:
    # The sink's bound is in rows a second: the ratio to the naive writer, missed, gets none.
    recorded = {"sink_throughput": {"rows_per_s": 60_000.0, "times_naive": 5.0, "bound_per_s": 7e4}}
    assert summary.bounds(recorded) == []

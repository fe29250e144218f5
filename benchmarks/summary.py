"""The one table `make bench` ends with: each figure beside its target and the machine's own limit
measured in the same run (Kafka's perf tools, PostgreSQL's COPY), read from the recorded results.

Usage: python benchmarks/summary.py RESULTS_DIR"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench_results import load_all

Results = Mapping[str, Mapping[str, float | None]]


@dataclass(frozen=True)
class Row:
    label: str
    source: tuple[str, str]  # (benchmark, figure)
    unit: str
    target: float | None = None
    at_least: bool = True  # the target is a floor (rates) or a ceiling (latencies)
    limit: tuple[str, str] | None = None  # the ceiling the figure is divided by
    limit_label: str = ""
    limit_unit: str = ""  # when the limit counts in other units than the figure (records)
    bound_basis: str = ""  # what the benchmark's recorded bound_per_s assumes, when it records one


# Targets of the performance plan; a limit is what the machine itself manages for the same work.
_PRODUCER = ("broker_ceiling", "producer_records_per_s")
_CONSUMER = ("broker_ceiling", "consumer_records_per_s")
_COPY_1 = ("database_ceiling", "copy_rows_per_s_1_session")
_COPY_2 = ("database_ceiling", "copy_rows_per_s_2_sessions")

ROWS = (
    Row(
        "end to end, every service, sustained",
        ("e2e_sustained", "ticks_per_s"),
        "ticks/s",
        15_000,
        limit=_PRODUCER,
        limit_label="Kafka producer tool",
        limit_unit="records/s",
        bound_basis="every process's CPU a tick, all of them on all the cores",
    ),
    *(
        Row(
            f"tick -> queryable {p} at {rate:,}/s",
            ("tick_latency", f"queryable_{p}_ms@{rate}"),
            "ms",
            250 if (p, rate) == ("p99", 5000) else None,
            at_least=False,
        )
        for rate in (1000, 5000)
        for p in ("p50", "p99", "max")
    ),
    *(
        Row(
            f"ingest -> anomaly {p} at {rate:,}/s",
            ("tick_latency", f"anomaly_{p}_ms@{rate}"),
            "ms",
            at_least=False,
        )
        for rate in (1000, 5000)
        for p in ("p50", "p99")
    ),
    Row(
        "normalize, one process",
        ("normalize_throughput", "ticks_per_s"),
        "ticks/s",
        25_000,
        limit=_CONSUMER,
        limit_label="Kafka consumer tool",
        limit_unit="records/s",
        bound_basis="the service's CPU a tick, on one core",
    ),
    Row(
        "signals, one core",
        ("signals_throughput", "ticks_per_s"),
        "ticks/s",
        20_000,
        limit=_CONSUMER,
        limit_label="Kafka consumer tool",
        limit_unit="records/s",
        bound_basis="the worker's CPU a tick, on its core",
    ),
    Row(
        "sink, one process",
        ("sink_throughput", "rows_per_s"),
        "rows/s",
        50_000,
        limit=_COPY_1,
        limit_label="COPY, 1 session",
        bound_basis="the sink's and PostgreSQL's CPU a row, one after the other",
    ),
    Row("sink over the naive writer", ("sink_throughput", "times_naive"), "x", 20),
    Row(
        "COPY into ticks, 2 sessions",
        _COPY_2,
        "rows/s",
        limit=_COPY_1,
        limit_label="COPY, 1 session",
    ),
)

HEADER = ("figure", "measured", "target", "limit", "ratio")


def figure(results: Results, source: tuple[str, str]) -> float | None:
    benchmark, name = source
    value = results.get(benchmark, {}).get(name)
    return None if value is None else float(value)


def number(value: float, unit: str) -> str:
    """Thousands for rates, two decimals for small figures (latencies in ms, multiples)."""
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"
    return f"{text} {unit}"


def cells(row: Row, results: Results) -> tuple[str, str, str, str, str]:
    measured = figure(results, row.source)
    target = ""
    if row.target is not None:
        verdict = "not run"
        if measured is not None:
            met = measured >= row.target if row.at_least else measured <= row.target
            verdict = "met" if met else "missed"
        target = f"{'>=' if row.at_least else '<='} {number(row.target, row.unit)}: {verdict}"
    limit = ratio = ""
    if row.limit is not None:
        ceiling = figure(results, row.limit)
        unit = row.limit_unit or row.unit
        limit = f"{row.limit_label} {number(ceiling, unit)}" if ceiling else "not run"
        if ceiling and measured is not None:
            ratio = f"{measured / ceiling:.2f}"
    shown = "not run" if measured is None else number(measured, row.unit)
    return (row.label, shown, target, limit, ratio)


def table(results: Results, rows: tuple[Row, ...] = ROWS) -> str:
    """The rows as an aligned text table; a figure no benchmark recorded reads `not run`."""
    lines = [HEADER, *(cells(row, results) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    rule = "  ".join("-" * w for w in widths)
    text = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    return "\n".join([text[0], rule, *text[1:]])


def bounds(results: Results, rows: tuple[Row, ...] = ROWS) -> list[str]:
    """For each target missed, the profile its benchmark recorded: the CPU each process spent a
    tick (or row) and the most that cost allows on this machine, so a reader sees what bounds it."""
    lines = []
    for row in rows:
        measured, ceiling = (
            figure(results, row.source),
            figure(results, (row.source[0], "bound_per_s")),
        )
        if not row.bound_basis or row.target is None or measured is None or ceiling is None:
            continue
        if (measured >= row.target) if row.at_least else (measured <= row.target):
            continue
        costs = {
            name.split(":", 1)[1]: value
            for name, value in results.get(row.source[0], {}).items()
            if name.startswith(("cpu_us_per_tick:", "cpu_us_per_row:")) and value is not None
        }
        spent = ", ".join(f"{k} {v:,.1f}" for k, v in sorted(costs.items(), key=lambda kv: -kv[1]))
        lines.append(
            f"{row.label}: {number(measured, row.unit)} against {number(row.target, row.unit)}; "
            f"CPU us each: {spent}; {row.bound_basis}: at most {number(ceiling, row.unit)}, "
            f"so the target needs {ceiling / row.target:.2f} of today's CPU cost"
        )
    return lines


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    folder = Path(sys.argv[1])
    print(f"\nSummary ({folder}): ratio = measured / limit, both from this run")
    results = load_all(folder)
    print(table(results))
    found = bounds(results)
    if found:
        print("\nWhat bounds each target missed, from the same runs' CPU accounting:")
        print("\n".join(f"- {line}" for line in found))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

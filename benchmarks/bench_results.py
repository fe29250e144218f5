"""Where the benchmarks leave their figures for the summary table: one JSON file per benchmark in
the folder TICKWIRE_BENCH_RESULTS names (`make bench` sets it), and the percentiles they report."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

RESULTS_DIR_VARIABLE = "TICKWIRE_BENCH_RESULTS"

Figures = Mapping[str, float | None]


def record(
    benchmark: str, figures: Figures, environ: Mapping[str, str] = os.environ
) -> Path | None:
    """Merge `figures` into `<results dir>/<benchmark>.json`; nothing when no folder is named,
    so a benchmark run by hand prints its figures and leaves no file behind. Merged, not
    replaced, so a benchmark that runs several cases may record each as it finishes."""
    folder = environ.get(RESULTS_DIR_VARIABLE)
    if not folder:
        return None
    path = Path(folder) / f"{benchmark}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    merged = {**load(path), **figures}
    path.write_text(json.dumps(merged, indent=1, sort_keys=True) + "\n")
    return path


def load(path: Path) -> dict[str, float | None]:
    """One benchmark's recorded figures, empty when it left none."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object of figures, found {type(data).__name__}")
    return data


def load_all(folder: Path) -> dict[str, dict[str, float | None]]:
    """Every benchmark's figures in `folder`, by benchmark name."""
    return {path.stem: load(path) for path in sorted(folder.glob("*.json"))}


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted samples: the smallest sample with at least
    `fraction` of all samples at or below it, so p99 of 100 samples is the 99th, never a value
    no tick had."""
    if not ordered:
        raise ValueError("no samples")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction {fraction} is not in (0, 1]")
    rank = math.ceil(fraction * len(ordered))
    return ordered[rank - 1]


def latency_summary(samples: Sequence[float]) -> dict[str, float]:
    """p50, p99 and max of latency samples (any unit), with their count."""
    ordered = sorted(samples)
    return {
        "count": len(ordered),
        "p50": percentile(ordered, 0.50),
        "p99": percentile(ordered, 0.99),
        "max": ordered[-1],
    }

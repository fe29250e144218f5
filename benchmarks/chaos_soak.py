"""The soak run's series: the watch's one-second samples folded into one row every 10 s (each
service's peak RSS and the worst tick -> queryable age in it), written as a CSV and a PNG."""

from __future__ import annotations

import csv
import statistics
from dataclasses import dataclass
from pathlib import Path

from chaos_checks import ages

EVERY_S = 10.0


@dataclass
class SoakSeries:
    names: list[str]  # the processes watched, in column order
    # (seconds into the load, peak MiB per name or None, worst age of the newest stored tick or
    # None while nothing was stored yet)
    rows: list[tuple[float, list[float | None], float | None]]


def fold(
    memory: dict[str, list[tuple[float, float]]],
    newest: list[tuple[float, float | None]],
    began: float,
    ended: float,
    every_s: float = EVERY_S,
) -> SoakSeries:
    """Samples on the monotonic clock from `began` to `ended`, one row per `every_s` window,
    stamped with the window's end."""
    names = sorted(memory)
    windows = max(1, int((ended - began) // every_s))
    peaks: list[list[float | None]] = [[None] * len(names) for _ in range(windows)]
    worst: list[float | None] = [None] * windows

    def slot(t: float) -> int | None:
        index = int((t - began) // every_s)
        return index if 0 <= index < windows else None

    for column, name in enumerate(names):
        for t, mib in memory[name]:
            if (i := slot(t)) is not None:
                now = peaks[i][column]
                peaks[i][column] = mib if now is None else max(now, mib)
    for t, age in ages(newest):
        if (i := slot(t)) is not None:
            now_age = worst[i]
            worst[i] = age if now_age is None else max(now_age, age)
    rows = [((i + 1) * every_s, peaks[i], worst[i]) for i in range(windows)]
    return SoakSeries(names, rows)


def write_csv(series: SoakSeries, path: Path) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["seconds", *[f"{n}_rss_mib" for n in series.names], "tick_age_s"])
        for t, peaks, age in series.rows:
            cells = ["" if m is None else f"{m:.1f}" for m in peaks]
            writer.writerow([f"{t:.0f}", *cells, "" if age is None else f"{age:.2f}"])


def plot(series: SoakSeries, path: Path, title: str) -> None:
    """Two panels on one time axis: memory per process, and tick -> queryable."""
    import matplotlib

    matplotlib.use("Agg")  # a file, never a window
    import matplotlib.pyplot as plt

    minutes = [t / 60 for t, _, _ in series.rows]
    figure, (memory, latency) = plt.subplots(2, 1, figsize=(11, 8), sharex=True)
    for column, name in enumerate(series.names):
        values = [float("nan") if p[column] is None else p[column] for _, p, _ in series.rows]
        memory.plot(minutes, values, label=name, linewidth=1.2)
    memory.set_ylabel("peak RSS in 10 s (MiB)")
    memory.legend(loc="upper left", fontsize=8, ncol=3)
    memory.grid(alpha=0.3)
    ages_s = [float("nan") if a is None else a for _, _, a in series.rows]
    latency.plot(minutes, ages_s, color="tab:red", linewidth=1.2)
    latency.set_ylabel("tick -> queryable, worst in 10 s (s)")
    latency.set_xlabel("minutes into the load")
    latency.grid(alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def summary(series: SoakSeries) -> list[str]:
    """Lines for the run's output: each process's first and last 10 minutes' peaks, the ages."""
    lines = []
    span = max(1, min(60, len(series.rows) // 2))  # rows of 10 s: ten minutes, or half the run
    for column, name in enumerate(series.names):
        values = [p[column] for _, p, _ in series.rows]
        early = max((v for v in values[:span] if v is not None), default=0.0)
        late = max((v for v in values[-span:] if v is not None), default=0.0)
        lines.append(
            f"  {name}: peak {max((v for v in values if v is not None), default=0.0):,.0f} MiB "
            f"(first {span * EVERY_S / 60:g} min {early:,.0f}, last {late:,.0f})"
        )
    found = [a for _, _, a in series.rows if a is not None]
    if found:
        lines.append(
            f"  tick -> queryable (worst of each 10 s): median {statistics.median(found):.2f} s, "
            f"worst {max(found):.2f} s, last {found[-1]:.2f} s"
        )
    return lines

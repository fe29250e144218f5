"""The sustained end-to-end run's arithmetic: its measuring window, the CPU each process spent a
tick in it and the rate those costs allow, and the check that every published tick was stored
exactly once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """From the end of the warm-up to the end of the feed: monotonic seconds and rows stored."""

    began: float
    ended: float
    stored_at_begin: float
    stored_at_end: float

    @property
    def seconds(self) -> float:
        return self.ended - self.began

    @property
    def ticks(self) -> float:
        return self.stored_at_end - self.stored_at_begin

    @property
    def rate(self) -> float:
        return self.ticks / self.seconds if self.seconds > 0 else 0.0


def cpu_per_tick_us(
    before: Mapping[str, float], after: Mapping[str, float], ticks: float
) -> dict[str, float]:
    """Microseconds of CPU each process spent per tick stored between two readings."""
    if ticks <= 0:
        raise ValueError("no tick was stored in the window: its CPU cannot be shared out")
    return {name: 1e6 * (after[name] - before.get(name, 0.0)) / ticks for name in after}


def ceiling(per_tick_us: Mapping[str, float], cores: int) -> float:
    """Ticks a second the machine's cores could carry at these costs if every process ran in
    parallel all the time: the most this machine allows the pipeline as it stands."""
    total = sum(per_tick_us.values())
    return cores * 1e6 / total if total > 0 else float("inf")


@dataclass(frozen=True)
class Stored:
    """What the database holds of one ingest instance's published ticks, against the count of
    records it published (its ingest_seq runs 1, 2, ... with no gap on the topic)."""

    published: int
    rows: int
    distinct_seqs: int
    lowest: int | None
    highest: int | None

    @property
    def lost(self) -> int:
        return self.published - self.distinct_seqs

    @property
    def duplicated(self) -> int:
        return self.rows - self.distinct_seqs

    @property
    def ok(self) -> bool:
        if self.published == 0:
            return False
        return (
            self.rows == self.distinct_seqs == self.published
            and self.lowest == 1
            and self.highest == self.published
        )

    def describe(self) -> str:
        verdict = "yes" if self.ok else "NO"
        return (
            f"{verdict}: {self.rows:,} rows, {self.distinct_seqs:,} ingest sequences "
            f"({self.lowest} to {self.highest}) of {self.published:,} published; "
            f"{max(self.lost, 0):,} lost, {self.duplicated:,} duplicated"
        )

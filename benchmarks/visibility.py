"""When each tick of a run was first seen stored: a reader polls for rows by the ingest sequence
and keeps, per tick, the moment of the first poll that returned it (later sightings ignored)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class FirstSight:
    """Ticks numbered 1, 2, ... by ingest (its gapless ingest_seq) become visible out of order (a
    batch holds some partitions' newer ticks before another's older ones). `low` is the smallest
    sequence not yet seen, so a poll only needs rows from there on; `ahead` holds the ones seen
    beyond it, dropped as `low` passes them, so memory stays the size of the out-of-order window."""

    low: int = 1
    low_received_us: int | None = None  # receive time of tick low - 1, where the next poll starts
    ahead: dict[int, int] = field(default_factory=dict)  # seq -> received_us, seen beyond low
    latencies_us: list[tuple[int, int]] = field(default_factory=list)  # (received_us, latency_us)
    repeated: int = 0  # rows returned again: a duplicate in the table, or an overlap of polls

    def observe(self, rows: Iterable[tuple[int, int]], polled_us: int) -> int:
        """Rows (ingest_seq, received_us) a poll sent at `polled_us` returned; returns how many
        were seen for the first time. Each such tick's sample is `polled_us - received_us`."""
        new = 0
        for seq, received_us in rows:
            if seq < self.low or seq in self.ahead:
                self.repeated += 1
                continue
            self.ahead[seq] = received_us
            self.latencies_us.append((received_us, polled_us - received_us))
            new += 1
        while self.low in self.ahead:
            self.low_received_us = self.ahead.pop(self.low)
            self.low += 1
        return new

    @property
    def seen(self) -> int:
        return self.low - 1 + len(self.ahead)

    def after_warmup(self, start_us: int) -> list[float]:
        """Latencies in milliseconds of the ticks received at or after `start_us`."""
        return [lat / 1000 for received, lat in self.latencies_us if received >= start_us]

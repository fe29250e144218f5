"""The copies one batch dropped, counted per provider, instrument and UTC day: what the batch's
dedup_tally record carries, so the quality report can count duplicates from the database."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

US_PER_DAY = 86_400_000_000


def copy_day(tick: Mapping[str, Any]) -> int:
    """The UTC day a copy counts under, in days since 1970-01-01: its exchange time's, or its
    receipt's where the venue gave no exchange time."""
    ts: int | None = tick.get("exchange_ts")
    if ts is None:
        ts = tick["received_ts"]
    return ts // US_PER_DAY


class CopyTally:
    """Counts copies in a dict as the batch goes (one addition per copy), and becomes one record
    at the end of the batch, not one per copy."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], int] = {}

    def add(self, tick: Mapping[str, Any]) -> None:
        key = (tick["provider"], tick["instrument"], copy_day(tick))
        self.counts[key] = self.counts.get(key, 0) + 1

    def __bool__(self) -> bool:
        return bool(self.counts)

    def record(self, instance: str, tallied_ts: int) -> dict[str, Any]:
        """The dedup_tally record; entries sorted, so equal tallies are equal records."""
        return {
            "instance": instance,
            "tallied_ts": tallied_ts,
            "entries": [
                {"provider": provider, "instrument": instrument, "day": day, "duplicates": n}
                for (provider, instrument, day), n in sorted(self.counts.items())
            ],
        }

"""Pipeline status from written ticks: the per-feed update of one batch (newest times, new ticks
and gaps) and the counters of the sink's own heartbeat. Plain data; times are UTC microseconds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

GAP = "gap"


class FeedPart(NamedTuple):
    """What one write covers: the ticks or the gap events of one feed. Written apart, each part's
    inserted count says exactly how many of its rows were new."""

    provider: str
    instrument: str
    gap: bool
    # Backfilled ticks are stored but say nothing of the live feed: no freshness, no counts.
    history: bool = False


@dataclass(frozen=True)
class FeedUpdate:
    provider: str
    instrument: str
    first_exchange_ts: int | None  # of ticks, not gap events: a gap says nothing is arriving
    last_exchange_ts: int | None
    last_received_ts: int | None
    new_ticks: int
    new_gaps: int
    last_gap_start: int | None
    last_gap_end: int | None
    last_gap_reason: str | None


def feed_parts(ticks: Sequence[Mapping[str, Any]]) -> dict[FeedPart, list[int]]:
    """The batch's indices per part, in batch order."""
    parts: dict[FeedPart, list[int]] = {}
    for i, tick in enumerate(ticks):
        part = FeedPart(
            tick["provider"], tick["instrument"], tick["kind"] == GAP, bool(tick.get("history"))
        )
        parts.setdefault(part, []).append(i)
    return parts


def feed_updates(
    written: Iterable[tuple[FeedPart, Sequence[Mapping[str, Any]], int]],
) -> list[FeedUpdate]:
    """One update per feed from (part, its stored ticks, how many of them were new). Times come
    from every stored tick, new or not: the upsert keeps the greater, so a replay changes none."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for part, ticks, inserted in written:
        if not ticks or part.history:
            continue
        feed = merged.setdefault(
            (part.provider, part.instrument),
            {
                "first": None,
                "exchange": None,
                "received": None,
                "ticks": 0,
                "gaps": 0,
                "gap": None,
            },
        )
        if part.gap:
            feed["gaps"] += inserted
            newest = max(ticks, key=lambda t: t["exchange_ts"])
            if feed["gap"] is None or newest["exchange_ts"] > feed["gap"]["exchange_ts"]:
                feed["gap"] = newest
        else:
            feed["ticks"] += inserted
            first = min(t["exchange_ts"] for t in ticks)
            feed["first"] = first if feed["first"] is None else min(feed["first"], first)
            feed["exchange"] = _latest(feed["exchange"], (t["exchange_ts"] for t in ticks))
            feed["received"] = _latest(feed["received"], (t["received_ts"] for t in ticks))
    updates = []
    for (provider, instrument), feed in sorted(merged.items()):
        gap = feed["gap"]
        updates.append(
            FeedUpdate(
                provider=provider,
                instrument=instrument,
                first_exchange_ts=feed["first"],
                last_exchange_ts=feed["exchange"],
                last_received_ts=feed["received"],
                new_ticks=feed["ticks"],
                new_gaps=feed["gaps"],
                last_gap_start=None if gap is None else gap["exchange_ts"],
                last_gap_end=None if gap is None else gap.get("gap_end_ts"),
                last_gap_reason=None if gap is None else gap.get("gap_reason"),
            )
        )
    return updates


def _latest(current: int | None, times: Iterable[int]) -> int | None:
    newest = max(times, default=None)
    if newest is None or (current is not None and current >= newest):
        return current
    return newest


@dataclass
class SinkCounters:
    """The sink's heartbeat: totals since start and the state of its last batch."""

    rows_in: int = 0  # records handed to the sink
    rows_out: int = 0  # rows newly stored (a redelivered row counts in, not out)
    rows_refused: int = 0  # records dead-lettered: unmappable or refused by the database
    batches_failed: int = 0
    circuit: str = "closed"
    last_error: str | None = None
    last_error_at: int | None = None
    lag: int | None = None  # the run loop's: records behind the end of the input topics
    started_at: int | None = None

    def succeeded(self) -> None:
        self.circuit = "closed"

    def failed(self, error: str, at: int) -> None:
        # The loop rewinds and waits after a failed batch: its breaker is open until the retry.
        self.batches_failed += 1
        self.circuit = "open"
        self.last_error, self.last_error_at = error, at


def heartbeat_due(now_s: float, last_s: float | None, every_s: float) -> bool:
    return last_s is None or now_s - last_s >= every_s

"""Normalize's Prometheus metrics, and the per-batch counts that reach them once a batch is done
(a labelled increment per record cost more than validating the record)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

RAW_IN = Counter("tickwire_normalize_raw_total", "Raw records consumed", ["provider", "instance"])
TICKS_OUT = Counter(
    "tickwire_normalize_ticks_total", "Ticks published", ["provider", "instrument", "kind"]
)
REJECTED = Counter(
    "tickwire_normalize_rejected_total",
    "Ticks or records rejected to the dead-letter topic",
    ["provider", "instrument", "reason"],
)
DEDUPLICATED = Counter(
    "tickwire_normalize_deduplicated_total",
    "Copies dropped because another instance (or a redelivery) already delivered them",
    ["provider", "instrument", "instance"],
)
RECORDS_OUT = Counter(
    "tickwire_normalize_history_records_total",
    "Records other than ticks published from backfills (vendor bars, short volume and interest)",
    ["provider", "kind"],
)
HISTORY_TICKS = Counter(
    "tickwire_normalize_history_ticks_total", "Backfilled ticks published", ["provider"]
)
UNMAPPED = Counter(
    "tickwire_normalize_unmapped_fields_total",
    "Checked venue messages (the first and then one in N per provider) that carried a field "
    "the provider's mapping did not read, by field path",
    ["provider", "field"],
)
WINDOW_KEYS = Gauge("tickwire_normalize_dedup_keys", "Update keys held in the dedup window")
WINDOW_EVICTED_EARLY = Gauge(
    "tickwire_normalize_dedup_evicted_early", "Keys evicted by the key cap before their time"
)
WARMUP = Counter("tickwire_normalize_warmup_records_total", "Records re-read to rebuild the window")
WARMUP_SKIPPED = Counter(
    "tickwire_normalize_warmup_skipped_total", "Assignments whose window could not be rebuilt"
)


class BatchCounts:
    """Increments of labelled counters during one batch, added to the counters in one step per
    label set at its end: a dict entry per record instead of a label lookup and a lock."""

    def __init__(self) -> None:
        self._counts: dict[tuple[Counter, tuple[str, ...]], int] = {}

    def add(self, counter: Counter, *labels: str) -> None:
        key = (counter, labels)
        self._counts[key] = self._counts.get(key, 0) + 1

    def publish(self) -> None:
        for (counter, labels), n in self._counts.items():
            (counter.labels(*labels) if labels else counter).inc(n)
        self._counts.clear()

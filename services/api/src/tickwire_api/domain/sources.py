"""Where bars come from: computed by the signals service from ticks (trade, mid), given by a
vendor's history (yahoo, coingecko, binance, ...) or rolled up in the database from stored trades
(rollup), what a `source` filter selects, and the rules that keep the kinds apart."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tickwire_api.domain.intervals import RangeError

COMPUTED_SOURCES = ("trade", "mid")
COMPUTED = "computed"  # every computed source
VENDOR = "vendor"  # every vendor source
# Trade bars the database rolls up from stored ticks (the bars_1m / bars_1h rollups), served only
# when asked for by name: beside the signals service's trade bars they would be the same trades
# twice, closed by another rule.
ROLLUP = "rollup"
ROLLUP_INTERVALS = {60: "1m", 3_600: "1h"}  # seconds -> name, the rollups there are


def is_computed(source: str) -> bool:
    return source in COMPUTED_SOURCES


@dataclass(frozen=True)
class SourceFilter:
    """What `source=` selects: computed bars, vendor bars, or both, and within them one named
    source when `name` is set; or the rollups alone (`rollup`), which nothing else selects."""

    computed: bool
    vendor: bool
    name: str | None

    @property
    def rollup(self) -> bool:
        """The rollups, which only their own name selects."""
        return self.name == ROLLUP

    @property
    def given(self) -> bool:
        return self.computed != self.vendor or self.name is not None


def source_filter(value: str | None) -> SourceFilter:
    """None (no filter), 'computed', 'vendor', 'rollup', or one source's name."""
    if value == ROLLUP:
        return SourceFilter(computed=False, vendor=False, name=ROLLUP)
    if value is None:
        return SourceFilter(computed=True, vendor=True, name=None)
    if value == COMPUTED:
        return SourceFilter(computed=True, vendor=False, name=None)
    if value == VENDOR:
        return SourceFilter(computed=False, vendor=True, name=None)
    computed = is_computed(value)
    return SourceFilter(computed=computed, vendor=not computed, name=value)


class MixedSources(RangeError):
    """Computed and vendor bars both match a request that named no source."""

    def __init__(self, sources: Iterable[str]) -> None:
        found = sorted(set(sources))
        computed = [s for s in found if is_computed(s)]
        vendor = [s for s in found if not is_computed(s)]
        super().__init__(
            "source",
            f"both computed bars ({', '.join(computed)}) and vendor bars ({', '.join(vendor)}) "
            f"match: choose with source={COMPUTED}, source={VENDOR} or one of "
            f"{', '.join(found)}",
        )
        self.computed = computed
        self.vendor = vendor


def check_unmixed(wanted: SourceFilter, sources: Iterable[str]) -> None:
    """Refuses (MixedSources) an answer holding both kinds when no source was asked for: a
    vendor's daily bar (trading day, adjusted close) and one summed from ticks over a UTC day
    are different things under the same name. Trade and mid bars stay side by side, as they
    always have, each with its source."""
    if wanted.given:
        return
    found = set(sources)
    if any(is_computed(s) for s in found) and any(not is_computed(s) for s in found):
        raise MixedSources(found)


def check_rollup_interval(sources: SourceFilter, interval: str, seconds: int) -> None:
    """Refuses (on `interval`) rollup bars at an interval no rollup has: they are served as the
    database keeps them, never re-aggregated, like a vendor's bars."""
    if sources.rollup and seconds not in ROLLUP_INTERVALS:
        raise RangeError(
            "interval",
            f"source={ROLLUP} has bars at {' and '.join(ROLLUP_INTERVALS.values())} only (the "
            f"rollups of stored trades), not at {interval}: choose one of those, or "
            "source=trade for trade bars at any interval",
        )


def interval_name(seconds: int) -> str:
    """The name stored bars of `seconds` carry: the largest whole unit (3600 -> '1h', 14400 ->
    '4h', 90 -> '90s'), as vendors' bars are stored (1m, 5m, 15m, 1h, 4h, 1d)."""
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"

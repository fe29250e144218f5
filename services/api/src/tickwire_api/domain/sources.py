"""Where bars come from: computed by the signals service from ticks (trade, mid) or given by a
vendor's history (yahoo, coingecko, binance, ...), what a `source` filter selects, and the rule
that keeps the two kinds from being mixed in one answer without the client asking for both."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tickwire_api.domain.intervals import RangeError

COMPUTED_SOURCES = ("trade", "mid")
COMPUTED = "computed"  # every computed source
VENDOR = "vendor"  # every vendor source


def is_computed(source: str) -> bool:
    return source in COMPUTED_SOURCES


@dataclass(frozen=True)
class SourceFilter:
    """What `source=` selects: computed bars, vendor bars, or both, and within them one named
    source when `name` is set."""

    computed: bool
    vendor: bool
    name: str | None

    @property
    def given(self) -> bool:
        return self.computed != self.vendor or self.name is not None


def source_filter(value: str | None) -> SourceFilter:
    """None (no filter), 'computed', 'vendor', or one source's name."""
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


def interval_name(seconds: int) -> str:
    """The name stored bars of `seconds` carry: the largest whole unit (3600 -> '1h', 14400 ->
    '4h', 90 -> '90s'), as vendors' bars are stored (1m, 5m, 15m, 1h, 4h, 1d)."""
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"

"""What the signals domain is tuned by: the price rule and its thresholds per instrument class, bar
intervals, lateness, the stale-quote timeout and the feature windows. Times are UTC microseconds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

US_PER_S = 1_000_000
DAY_US = 86_400 * US_PER_S
INSTRUMENT_CLASSES = ("spot", "perp", "future", "option")
PRICE_METHODS = ("return", "level")

_OPTION = re.compile(r".+-[0-9]{8}-[0-9.]+-[CP]")
_FUTURE = re.compile(r".+-[0-9]{8}")


def instrument_class(instrument: str) -> str:
    """spot | perp | future | option, from the unified instrument name; names that follow none of
    the derivative patterns (including venue names kept as they are) are spot."""
    if instrument.endswith("-PERP"):
        return "perp"
    if _OPTION.fullmatch(instrument):
        return "option"
    if _FUTURE.fullmatch(instrument):
        return "future"
    return "spot"


@dataclass(frozen=True)
class ZScoreParams:
    """The price rule. `method` "return" (rule return_zscore) judges a price's log return from the
    last used mid by an EWMA volatility of such returns over a span of `window` prices; "level"
    (rule zscore) judges the price against the mean and stddev of the last `window` prices.
    `rebase_after` consecutive critical prices on the same side mean the price has moved, not that
    the feed is wrong: the judge restarts from there so the new level is not shut out forever
    (critical prices are not used, so nothing else would let it), and those prices are confirmed
    and used after all (see corrections)."""

    window: int = 200
    min_points: int = 30
    warn: float = 2.5
    critical: float = 4.0
    rebase_after: int = 5
    method: str = "return"

    def __post_init__(self) -> None:
        if self.window < 2:
            raise ValueError(f"z-score window must be at least 2 prices, got {self.window}")
        if not 2 <= self.min_points <= self.window:
            raise ValueError(
                f"z-score min_points must be between 2 and the window ({self.window}), "
                f"got {self.min_points}"
            )
        if not 0 < self.warn <= self.critical:
            raise ValueError(
                f"z-score thresholds need 0 < warn <= critical, got {self.warn}, {self.critical}"
            )
        if self.rebase_after < 1:
            raise ValueError(f"z-score rebase_after must be at least 1, got {self.rebase_after}")
        if self.method not in PRICE_METHODS:
            raise ValueError(
                f"z-score method must be one of {', '.join(PRICE_METHODS)}, got {self.method!r}"
            )


@dataclass(frozen=True)
class BarInterval:
    name: str  # as bar and signal records carry it: "1s", "1m"
    length_us: int


_DEFAULT_INTERVALS = (BarInterval("1s", US_PER_S), BarInterval("1m", 60 * US_PER_S))


@dataclass(frozen=True)
class SignalsConfig:
    """Times in microseconds. bar_intervals end up sorted, finest first; an instrument's z-score
    parameters are its class's override, else `zscore`."""

    zscore: ZScoreParams = ZScoreParams()
    zscore_overrides: Mapping[str, ZScoreParams] = field(default_factory=dict)
    bar_intervals: tuple[BarInterval, ...] = _DEFAULT_INTERVALS
    allowed_lateness_us: int = 2 * US_PER_S
    stale_quote_timeout_us: int = 10 * US_PER_S
    gap_jump_warn_bps: float = 50.0
    gap_jump_critical_bps: float = 200.0
    sma_short: int = 20
    sma_long: int = 50
    vwap_window_us: int = 300 * US_PER_S
    momentum_window: int = 20

    def __post_init__(self) -> None:
        unknown = set(self.zscore_overrides) - set(INSTRUMENT_CLASSES)
        if unknown:
            raise ValueError(
                f"z-score overrides for unknown instrument classes {sorted(unknown)}; "
                f"the classes are {', '.join(INSTRUMENT_CLASSES)}"
            )
        object.__setattr__(self, "zscore_overrides", MappingProxyType(dict(self.zscore_overrides)))
        object.__setattr__(
            self, "bar_intervals", tuple(sorted(self.bar_intervals, key=lambda i: i.length_us))
        )
        self._check_intervals()
        if self.allowed_lateness_us < 0:
            raise ValueError(
                f"allowed lateness must not be negative, got {self.allowed_lateness_us}"
            )
        if self.stale_quote_timeout_us <= 0:
            raise ValueError(
                f"stale-quote timeout must be positive, got {self.stale_quote_timeout_us}"
            )
        if not 0 < self.gap_jump_warn_bps <= self.gap_jump_critical_bps:
            raise ValueError(
                "gap-jump thresholds need 0 < warn <= critical, got "
                f"{self.gap_jump_warn_bps}, {self.gap_jump_critical_bps}"
            )
        if not 1 <= self.sma_short < self.sma_long:
            raise ValueError(
                f"SMA windows need 1 <= short < long, got {self.sma_short}, {self.sma_long}"
            )
        if self.momentum_window < 1:
            raise ValueError(f"momentum window must be at least 1, got {self.momentum_window}")
        finest = self.bar_intervals[0].length_us
        if self.vwap_window_us <= 0 or self.vwap_window_us % finest:
            # VWAP is summed per finest bar, so its window is a whole number of them.
            raise ValueError(
                f"VWAP window must be a positive multiple of the finest bar interval "
                f"({finest} us), got {self.vwap_window_us}"
            )

    def _check_intervals(self) -> None:
        if not self.bar_intervals:
            raise ValueError("at least one bar interval is needed")
        names = [i.name for i in self.bar_intervals]
        lengths = [i.length_us for i in self.bar_intervals]
        if len(set(names)) != len(names) or len(set(lengths)) != len(lengths):
            raise ValueError(f"bar intervals must differ in name and length, got {names}")
        finest = lengths[0]
        for interval in self.bar_intervals:
            if interval.length_us <= 0 or DAY_US % interval.length_us:
                # A bar that straddled midnight would belong to two days.
                raise ValueError(f"bar interval {interval.name} must divide a day evenly")
            if interval.length_us % finest:
                # Then a tick whose finest bar is closed has every coarser bar closed too, so a
                # tick is late for all intervals or for none.
                raise ValueError(
                    f"bar interval {interval.name} must be a multiple of the finest interval "
                    f"{self.bar_intervals[0].name}"
                )

    @property
    def finest(self) -> BarInterval:
        return self.bar_intervals[0]

    def zscore_for(self, instrument: str) -> ZScoreParams:
        return self.zscore_overrides.get(instrument_class(instrument), self.zscore)

"""Everything the engine keeps per provider|instrument, bounded by the config's windows, and its
JSON-safe dict form (the stream table stores it as JSON; the round trip is exact).

Format 1 grew the return rule's memory ("returns", later with the quoted spread in it), the
provider's resumption ("resumed_ts", no longer set) and the critical prices awaiting confirmation
with the bars they hold ("pending", "held") after it was first written: a state saved without
them loads with them fresh (the return rule then warms up again over min_points prices; no price
waits), and older readers skip keys they do not know."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tickwire_signals.domain.config import SignalsConfig
from tickwire_signals.domain.corrections import HeldBar, PendingCritical
from tickwire_signals.domain.returns import ReturnWindow
from tickwire_signals.domain.series import BarSeries
from tickwire_signals.domain.vwap import VwapWindow
from tickwire_signals.domain.zscore import ZWindow

FORMAT_VERSION = 1


@dataclass(slots=True, eq=False)
class InstrumentState:
    provider: str
    instrument: str
    zscore: ZWindow
    series: list[BarSeries]  # one per bar interval, finest first
    vwap: VwapWindow
    returns: ReturnWindow
    last_offset: int = -1  # input offset of the last tick applied: redeliveries are skipped by it
    ticks_applied: int = 0
    late_ticks: int = 0
    excluded_ticks: int = 0  # priced ticks not used: critical z-score, crossed or locked book
    critical_run: int = 0  # consecutive critical prices on one side ...
    critical_side: int = 0  # ... that side, +1 or -1
    max_ts: int | None = None  # newest exchange_ts applied
    watermark_ts: int | None = None  # bars ending at or before it are closed
    last_price: float | None = None  # last price used
    first_trade_ts: int | None = None  # earliest exchange_ts of a used trade
    last_quote_ts: int | None = None  # newest exchange_ts of a quote or ticker
    stale_reported: bool = False
    # No longer set (stale quotes are judged per instrument now): kept so that states written
    # before and after load in either version.
    resumed_ts: int | None = None
    gap: tuple[int, str] | None = None  # (start_ts, reason) of a gap no price has followed yet
    # Critical prices of the current run, oldest first, and the closed bars they lie in (see
    # corrections): at most rebase_after - 1 prices and their bars of each interval.
    pending: list[PendingCritical] = field(default_factory=list)
    held: list[HeldBar] = field(default_factory=list)

    @classmethod
    def new(cls, provider: str, instrument: str, config: SignalsConfig) -> InstrumentState:
        params = config.zscore_for(instrument)
        return cls(
            provider=provider,
            instrument=instrument,
            zscore=ZWindow(params.window),
            series=[
                BarSeries(i.name, i.length_us, config.sma_long, config.momentum_window)
                for i in config.bar_intervals
            ],
            vwap=VwapWindow(config.vwap_window_us // config.finest.length_us),
            returns=ReturnWindow(params.window),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": FORMAT_VERSION,
            "provider": self.provider,
            "instrument": self.instrument,
            "zscore": self.zscore.to_dict(),
            "series": [s.to_dict() for s in self.series],
            "vwap": self.vwap.to_dict(),
            "returns": self.returns.to_dict(),
            "last_offset": self.last_offset,
            "ticks_applied": self.ticks_applied,
            "late_ticks": self.late_ticks,
            "excluded_ticks": self.excluded_ticks,
            "critical_run": self.critical_run,
            "critical_side": self.critical_side,
            "max_ts": self.max_ts,
            "watermark_ts": self.watermark_ts,
            "last_price": self.last_price,
            "first_trade_ts": self.first_trade_ts,
            "last_quote_ts": self.last_quote_ts,
            "stale_reported": self.stale_reported,
            "resumed_ts": self.resumed_ts,
            "gap": None if self.gap is None else list(self.gap),
            "pending": [p.to_list() for p in self.pending],
            "held": [h.to_list() for h in self.held],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InstrumentState:
        """Raises ValueError for a dict of another format version (start a new state then)."""
        if data.get("v") != FORMAT_VERSION:
            raise ValueError(f"instrument state format {data.get('v')!r}, not {FORMAT_VERSION}")
        gap = data["gap"]
        return cls(
            provider=str(data["provider"]),
            instrument=str(data["instrument"]),
            zscore=ZWindow.from_dict(data["zscore"]),
            series=[BarSeries.from_dict(s) for s in data["series"]],
            vwap=VwapWindow.from_dict(data["vwap"]),
            returns=(
                ReturnWindow.from_dict(data["returns"])
                if "returns" in data
                else ReturnWindow(int(data["zscore"]["size"]))  # the same window setting
            ),
            last_offset=int(data["last_offset"]),
            ticks_applied=int(data["ticks_applied"]),
            late_ticks=int(data["late_ticks"]),
            excluded_ticks=int(data["excluded_ticks"]),
            critical_run=int(data["critical_run"]),
            critical_side=int(data["critical_side"]),
            max_ts=_opt_int(data["max_ts"]),
            watermark_ts=_opt_int(data["watermark_ts"]),
            last_price=None if data["last_price"] is None else float(data["last_price"]),
            first_trade_ts=_opt_int(data["first_trade_ts"]),
            last_quote_ts=_opt_int(data["last_quote_ts"]),
            stale_reported=bool(data["stale_reported"]),
            resumed_ts=_opt_int(data.get("resumed_ts")),  # absent from states saved before it
            gap=None if gap is None else (int(gap[0]), str(gap[1])),
            # Absent from states saved before confirmation: nothing waited then.
            pending=[PendingCritical.from_list(p) for p in data.get("pending", [])],
            held=[HeldBar.from_list(h) for h in data.get("held", [])],
        )


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)

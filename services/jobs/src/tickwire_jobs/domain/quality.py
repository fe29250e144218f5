"""The daily quality report of one provider, instrument and UTC day, from what was stored about
it: coverage of its session, gaps, duplicates, rejects, anomalies and the vendor/computed bars."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from tickwire_jobs.domain.sessions import Session

# Rows of rejects that name no instrument are reported under this instrument (and this provider
# when they name none either).
UNATTRIBUTED = "*"
LATE_TICK = "late_tick"
TICK_KINDS = ("quote", "trade", "ticker")


@dataclass(frozen=True)
class Gap:
    """A gap event: the feed is known to be missing from `start` to `end`."""

    start: datetime
    end: datetime
    reason: str
    lost: int | None


@dataclass(frozen=True)
class BarPair:
    """A vendor's bar and the bar computed from ticks of the same interval and start."""

    vendor_source: str
    interval: str
    vendor_close: float
    computed_close: float


@dataclass
class DayFacts:
    """Everything stored about one provider and instrument on one day, as read from the tables:
    ticks by kind (gap events apart), the minutes of the day holding a tick, gap events starting
    that day, the copies normalize dropped, rejects by reason, anomalies by rule and severity,
    the vendor's daily close (and which vendor), the day's last computed close, and the intraday
    bars both a vendor and the pipeline made."""

    ticks_by_kind: dict[str, int] = field(default_factory=dict)
    first_tick: datetime | None = None
    last_tick: datetime | None = None
    minutes: set[int] = field(default_factory=set)
    gaps: list[Gap] = field(default_factory=list)
    duplicates: int = 0
    rejects: dict[str, int] = field(default_factory=dict)
    anomalies: dict[str, dict[str, int]] = field(default_factory=dict)
    vendor_source: str | None = None
    vendor_close: float | None = None
    computed_close: float | None = None
    bar_pairs: list[BarPair] = field(default_factory=list)


@dataclass(frozen=True)
class QualityRow:
    """One row of quality_daily, in the table's column order (computed_at is the database's)."""

    provider: str
    instrument: str
    day: date
    calendar: str | None
    session_minutes: int
    covered_minutes: int
    coverage: float | None
    ticks: int
    quotes: int
    trades: int
    tickers: int
    first_tick: datetime | None
    last_tick: datetime | None
    gaps: int
    gap_seconds: float
    gap_lost: int
    gaps_by_reason: dict[str, dict[str, float]]
    duplicates: int
    duplicate_rate: float | None
    rejects: int
    rejects_by_reason: dict[str, int]
    late_ticks: int
    anomalies: int
    anomalies_by_rule: dict[str, dict[str, int]]
    vendor_source: str | None
    vendor_close: float | None
    computed_close: float | None
    close_rel_diff: float | None
    bar_agreement: dict[str, dict[str, dict[str, float]]]
    tickwire_version: str


def relative_difference(computed: float, vendor: float) -> float | None:
    """(computed - vendor) / vendor: positive when the pipeline's price is above the vendor's."""
    return None if vendor == 0 else (computed - vendor) / vendor


def gaps_by_reason(gaps: Iterable[Gap]) -> dict[str, dict[str, float]]:
    """Per reason: the gap events, their seconds (each whole, from start to end, on the day it
    starts) and the messages they say were lost (where they know)."""
    found: dict[str, dict[str, float]] = {}
    for gap in gaps:
        entry = found.setdefault(gap.reason, {"gaps": 0, "seconds": 0.0, "lost": 0})
        entry["gaps"] += 1
        entry["seconds"] += (gap.end - gap.start).total_seconds()
        entry["lost"] += gap.lost or 0
    return found


def bar_agreement(pairs: Iterable[BarPair]) -> dict[str, dict[str, dict[str, float]]]:
    """vendor source -> interval -> bars compared, and the mean and largest absolute relative
    difference of their closes."""
    diffs: dict[tuple[str, str], list[float]] = {}
    for pair in pairs:
        diff = relative_difference(pair.computed_close, pair.vendor_close)
        if diff is not None:
            diffs.setdefault((pair.vendor_source, pair.interval), []).append(abs(diff))
    found: dict[str, dict[str, dict[str, float]]] = {}
    for (source, interval), values in sorted(diffs.items()):
        found.setdefault(source, {})[interval] = {
            "bars": len(values),
            "mean_abs_rel_diff": sum(values) / len(values),
            "max_abs_rel_diff": max(values),
        }
    return found


def quality_row(
    provider: str,
    instrument: str,
    day: date,
    session: Session | None,
    facts: DayFacts,
    version: str,
) -> QualityRow:
    """The report of one provider and instrument on `day`; `session` is None for the row of
    rejects that name no instrument, which has no calendar to be measured against."""
    if session is None:
        day_minutes: frozenset[int] = frozenset()
    else:
        day_minutes = session.minute_indexes()
    covered = len(day_minutes & facts.minutes)
    ticks = sum(facts.ticks_by_kind.values())
    seen = ticks + facts.duplicates
    by_reason = gaps_by_reason(facts.gaps)
    close_diff = None
    if facts.vendor_close is not None and facts.computed_close is not None:
        close_diff = relative_difference(facts.computed_close, facts.vendor_close)
    return QualityRow(
        provider=provider,
        instrument=instrument,
        day=day,
        calendar=None if session is None else session.calendar,
        session_minutes=len(day_minutes),
        covered_minutes=covered,
        coverage=covered / len(day_minutes) if day_minutes else None,
        ticks=ticks,
        quotes=facts.ticks_by_kind.get("quote", 0),
        trades=facts.ticks_by_kind.get("trade", 0),
        tickers=facts.ticks_by_kind.get("ticker", 0),
        first_tick=facts.first_tick,
        last_tick=facts.last_tick,
        gaps=len(facts.gaps),
        gap_seconds=sum(entry["seconds"] for entry in by_reason.values()),
        gap_lost=int(sum(entry["lost"] for entry in by_reason.values())),
        gaps_by_reason=by_reason,
        duplicates=facts.duplicates,
        duplicate_rate=facts.duplicates / seen if seen else None,
        rejects=sum(facts.rejects.values()),
        rejects_by_reason=dict(sorted(facts.rejects.items())),
        late_ticks=sum(facts.anomalies.get(LATE_TICK, {}).values()),
        anomalies=sum(sum(by_severity.values()) for by_severity in facts.anomalies.values()),
        anomalies_by_rule={
            rule: dict(sorted(by_severity.items()))
            for rule, by_severity in sorted(facts.anomalies.items())
        },
        vendor_source=facts.vendor_source,
        vendor_close=facts.vendor_close,
        computed_close=facts.computed_close,
        close_rel_diff=close_diff,
        bar_agreement=bar_agreement(facts.bar_pairs),
        tickwire_version=version,
    )

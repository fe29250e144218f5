"""The chaos run's quality check: the product's daily quality report computed over the run's
database, against every gap event stored and every stretch of an instrument without ticks."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import psycopg

from tickwire_cli import __version__
from tickwire_jobs.adapters.quality_store import Scope
from tickwire_jobs.domain.sessions import calendar_map
from tickwire_jobs.quality_report import days, report_day

# A stretch of an instrument's exchange time this long without a tick is a gap of the run: the
# simulator's six instruments tick several times a second each, even at the short run's rate.
HOLE_S = 5.0

# Per provider, instrument, day and reason: the gap events the ticks table holds and their seconds.
_GAPS = """
SELECT provider, instrument, (exchange_ts AT TIME ZONE 'UTC')::date,
       coalesce(gap_reason, 'unknown'),
       count(*), sum(extract(epoch FROM coalesce(gap_end_ts, exchange_ts) - exchange_ts))::float8
FROM ticks WHERE kind = 'gap' AND ingest_instance <> %(hostile)s
GROUP BY 1, 2, 3, 4"""

# Stretches between consecutive ticks of an instrument longer than HOLE_S that no gap event of
# the instrument overlaps, with the venue sequences on either side.
_HOLES = """
WITH spans AS (
  SELECT provider, instrument, exchange_ts, venue_seq,
         lag(exchange_ts) OVER w AS before, lag(venue_seq) OVER w AS seq_before
  FROM ticks WHERE kind <> 'gap' AND ingest_instance <> %(hostile)s
  WINDOW w AS (PARTITION BY provider, instrument ORDER BY exchange_ts))
SELECT s.provider, s.instrument, s.before, s.exchange_ts, s.seq_before, s.venue_seq
FROM spans s
WHERE s.exchange_ts - s.before > make_interval(secs => %(hole_s)s)
  AND NOT EXISTS (
    SELECT 1 FROM ticks g
    WHERE g.kind = 'gap' AND g.provider = s.provider AND g.instrument = s.instrument
      AND g.exchange_ts <= s.exchange_ts AND coalesce(g.gap_end_ts, g.exchange_ts) >= s.before)
ORDER BY s.before"""

Where = tuple[str, str, date]  # provider, instrument, day


@dataclass
class QualityCheck:
    rows: int = 0  # the report's rows over the run's days
    # what the ticks table holds and what the report says, per provider, instrument, day
    stored: dict[Where, Counter[str]] = field(default_factory=dict)  # reason -> gap events
    seconds: dict[Where, float] = field(default_factory=dict)
    reported: dict[Where, tuple[int, float, dict[str, Any]]] = field(default_factory=dict)
    # provider, instrument, last tick before, first after: updates are missing between them
    holes: list[tuple[str, str, datetime, datetime]] = field(default_factory=list)
    # stretches without ticks whose venue sequence runs on unbroken: nothing is missing, the
    # next update was stamped later (an ingest that took over, its simulator's clock behind)
    shifts: list[float] = field(default_factory=list)
    unlike: list[str] = field(default_factory=list)  # where report and gap events disagree
    spanned: tuple[datetime, datetime] | None = None  # the stored ticks' first and last exchange_ts

    @property
    def ok(self) -> bool:
        return self.rows > 0 and not (self.unlike or self.holes)

    def by_reason(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for reasons in self.stored.values():
            total.update(reasons)
        return total


def check_quality(url: str, hostile_instance: str) -> QualityCheck:
    """Runs the quality report over every day the run's ticks fall on (it replaces those days'
    rows, as `tickwire quality` does), then compares."""
    check = QualityCheck()
    params = {"hostile": hostile_instance, "hole_s": HOLE_S}
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT min(exchange_ts), max(exchange_ts) FROM ticks "
            "WHERE kind <> 'gap' AND ingest_instance <> %(hostile)s",
            params,
        ).fetchone()
        if found is None or found[0] is None:
            return check
        check.spanned = (found[0], found[1])
        span = first, last = found[0].astimezone(UTC).date(), found[1].astimezone(UTC).date()
        calendars = calendar_map(())
        for day in days(first, last):
            for row in report_day(conn, Scope(day, None, None), calendars, __version__, span):
                check.rows += 1
                where = (row.provider, row.instrument, row.day)
                check.reported[where] = (row.gaps, row.gap_seconds, row.gaps_by_reason)
        for provider, instrument, day, reason, count, seconds in conn.execute(_GAPS, params):
            where = (provider, instrument, day)
            check.stored.setdefault(where, Counter())[reason] += count
            check.seconds[where] = check.seconds.get(where, 0.0) + seconds
        for provider, instrument, before, after, seq_before, seq_after in conn.execute(
            _HOLES, params
        ):
            if seq_before is not None and seq_after == seq_before + 1:
                check.shifts.append((after - before).total_seconds())
            else:
                check.holes.append((provider, instrument, before, after))
    check.unlike = compare_gaps(check.stored, check.seconds, check.reported)
    return check


def compare_gaps(
    stored: dict[Where, Counter[str]],
    seconds: dict[Where, float],
    reported: dict[Where, tuple[int, float, dict[str, Any]]],
) -> list[str]:
    """Where the report's gaps (count, seconds, count per reason) are not the stored events'."""
    unlike = []
    for where in sorted(set(stored) | {w for w, r in reported.items() if r[0]}):
        reasons = stored.get(where, Counter())
        gaps, gap_seconds, by_reason = reported.get(where, (0, 0.0, {}))
        said = {reason: int(entry["gaps"]) for reason, entry in by_reason.items()}
        name = "/".join(map(str, where))
        if where not in reported:
            unlike.append(f"{name}: {sum(reasons.values())} gap events, no row in the report")
        elif gaps != sum(reasons.values()) or said != dict(reasons):
            unlike.append(f"{name}: {dict(reasons)} stored, {said} reported")
        elif abs(gap_seconds - seconds.get(where, 0.0)) > 0.001:
            unlike.append(f"{name}: {seconds.get(where, 0.0):.3f} s stored, {gap_seconds:.3f} s")
    return unlike


def quality_rows(check: QualityCheck) -> tuple[list[tuple[str, str, str]], bool]:
    reasons = ", ".join(f"{r} {n:,}" for r, n in check.by_reason().most_common()) or "none"
    detail = (
        f"{check.rows} rows over the run's days; gap events stored: {reasons}; "
        f"{len(check.unlike)} rows whose gaps differ from them; "
        f"{len(check.holes)} stretches over {HOLE_S:g} s with updates missing and no gap event"
    )
    if check.shifts:
        detail += (
            f"; {len(check.shifts)} over {HOLE_S:g} s with the venue sequence unbroken (nothing "
            f"missing: the next update was stamped up to {max(check.shifts):.1f} s later)"
        )
    if check.unlike:
        detail += f"; first: {check.unlike[0]}"
    if check.holes:
        provider, instrument, before, after = check.holes[0]
        detail += (
            f"; first: {provider}/{instrument} {before:%H:%M:%S.%f} to {after:%H:%M:%S.%f} "
            f"({(after - before).total_seconds():.1f} s)"
        )
    rows = [("quality report accounts for every gap", _mark(check.ok), detail)]
    if check.spanned is not None:
        first, last = check.spanned
        rows.append(
            (
                "stored ticks' exchange times",
                "measured",
                f"{first:%H:%M:%S} to {last:%H:%M:%S} UTC "
                f"({(last - first).total_seconds():,.0f} s; "
                "updates of a restarted simulator are copies until its sequence passes the "
                "highest the dedup window holds)",
            )
        )
    return rows, check.ok


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"

"""The quality report's reads of one UTC day from the stored rows (ticks, gap events, dedup
tallies, rejects, anomalies, bars, feed status) and its write: the day's rows replaced at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from tickwire_jobs.domain.quality import UNATTRIBUTED, BarPair, DayFacts, Gap, QualityRow
from tickwire_jobs.domain.sessions import day_start

COMPUTED_SOURCES = ("trade", "mid")  # bars the signals service builds from ticks

# Every query takes the day's [start, end) and the optional provider and instrument filters.
_FILTER = """
  AND (%(provider)s::text IS NULL OR provider = %(provider)s)
  AND (%(instrument)s::text IS NULL OR instrument = %(instrument)s)"""

_TICKS = (
    """
SELECT provider, instrument, kind, count(*), min(exchange_ts), max(exchange_ts),
       array_agg(DISTINCT floor(extract(epoch FROM exchange_ts - %(start)s) / 60)::int)
FROM ticks
WHERE exchange_ts >= %(start)s AND exchange_ts < %(end)s AND kind <> 'gap'"""
    + _FILTER
    + " GROUP BY provider, instrument, kind"
)

# A gap belongs to the day it starts on (exchange_ts is its start).
_GAPS = (
    """
SELECT provider, instrument, exchange_ts, gap_end_ts, coalesce(gap_reason, 'unknown'), gap_lost
FROM ticks
WHERE exchange_ts >= %(start)s AND exchange_ts < %(end)s AND kind = 'gap'"""
    + _FILTER
)

_DUPLICATES = (
    "SELECT provider, instrument, sum(duplicates) FROM dedup_tallies WHERE day = %(day)s"
    + _FILTER
    + " GROUP BY provider, instrument"
)

# A reject's day is that of the time it describes, else of when it was rejected.
_REJECTS = (
    """
SELECT provider, instrument, reason, count(*)
FROM (SELECT coalesce(provider, %(unattributed)s) AS provider,
             coalesce(instrument, %(unattributed)s) AS instrument, reason
      FROM rejects
      WHERE coalesce(event_ts, rejected_ts) >= %(start)s
        AND coalesce(event_ts, rejected_ts) < %(end)s) AS day_rejects
WHERE true"""
    + _FILTER
    + " GROUP BY provider, instrument, reason"
)

_ANOMALIES = (
    "SELECT provider, instrument, rule, severity, count(*) FROM anomalies"
    " WHERE ts >= %(start)s AND ts < %(end)s"
    + _FILTER
    + " GROUP BY provider, instrument, rule, severity"
)

# Vendors' daily bars start at 00:00 UTC (normalize refuses any other start); with several
# vendors for one provider and instrument, the first by name is compared.
_VENDOR_CLOSE = (
    """
SELECT DISTINCT ON (provider, instrument) provider, instrument, source, close
FROM bars
WHERE start_ts = %(start)s AND "interval" = '1d' AND source NOT IN ('trade', 'mid')"""
    + _FILTER
    + " ORDER BY provider, instrument, source"
)

# The day's close as the pipeline computed it: the close of its latest bar of the day, from
# trades where the instrument traded, else from mids.
_COMPUTED_CLOSE = (
    """
SELECT DISTINCT ON (provider, instrument) provider, instrument, close
FROM bars
WHERE start_ts >= %(start)s AND start_ts < %(end)s AND source IN ('trade', 'mid')"""
    + _FILTER
    + """
ORDER BY provider, instrument, source = 'trade' DESC, start_ts DESC, "interval" """
)

_BAR_PAIRS = """
SELECT DISTINCT ON (v.provider, v.instrument, v.source, v."interval", v.start_ts)
       v.provider, v.instrument, v.source, v."interval", v.close, c.close
FROM bars v
JOIN bars c ON c.provider = v.provider AND c.instrument = v.instrument
           AND c."interval" = v."interval" AND c.start_ts = v.start_ts
           AND c.source IN ('trade', 'mid')
WHERE v.start_ts >= %(start)s AND v.start_ts < %(end)s
  AND v.source NOT IN ('trade', 'mid') AND v."interval" <> '1d'
  AND (%(provider)s::text IS NULL OR v.provider = %(provider)s)
  AND (%(instrument)s::text IS NULL OR v.instrument = %(instrument)s)
ORDER BY v.provider, v.instrument, v.source, v."interval", v.start_ts, c.source = 'trade' DESC"""

# Feeds whose stored ticks began before the day ended and went on after it began: a day without
# a single tick of theirs is a day of no coverage, not a day without a row.
_LIVE_FEEDS = (
    """
SELECT provider, instrument FROM feed_status
WHERE first_exchange_ts < %(end)s AND last_exchange_ts >= %(start)s"""
    + _FILTER
)

_OTHER_PAIRS = (
    """
SELECT DISTINCT provider, instrument FROM bars
WHERE start_ts >= %(start)s AND start_ts < %(end)s"""
    + _FILTER
)


@dataclass(frozen=True)
class Scope:
    """One day, and optionally only one provider's or one instrument's rows."""

    day: date
    provider: str | None = None
    instrument: str | None = None

    def params(self) -> dict[str, Any]:
        start = day_start(self.day)
        return {
            "day": self.day,
            "start": start,
            "end": start + timedelta(days=1),
            "provider": self.provider,
            "instrument": self.instrument,
            "unattributed": UNATTRIBUTED,
        }


Pair = tuple[str, str]


def read_facts(conn: psycopg.Connection[Any], scope: Scope) -> dict[Pair, DayFacts]:
    """What is stored about each provider and instrument on the day, for every pair with
    anything stored that day or a feed running across it."""
    params = scope.params()
    facts: dict[Pair, DayFacts] = {}

    def rows(query: str) -> list[tuple[Any, ...]]:
        return conn.execute(query, params).fetchall()

    def of(provider: str, instrument: str) -> DayFacts:
        return facts.setdefault((provider, instrument), DayFacts())

    for provider, instrument, kind, count, first, last, minutes in rows(_TICKS):
        found = of(provider, instrument)
        found.ticks_by_kind[kind] = int(count)
        found.first_tick = first if found.first_tick is None else min(found.first_tick, first)
        found.last_tick = last if found.last_tick is None else max(found.last_tick, last)
        found.minutes.update(minutes)
    for provider, instrument, start, end, reason, lost in rows(_GAPS):
        of(provider, instrument).gaps.append(Gap(start, end or start, reason, lost))
    for provider, instrument, duplicates in rows(_DUPLICATES):
        of(provider, instrument).duplicates = int(duplicates)
    for provider, instrument, reason, count in rows(_REJECTS):
        of(provider, instrument).rejects[reason] = int(count)
    for provider, instrument, rule, severity, count in rows(_ANOMALIES):
        of(provider, instrument).anomalies.setdefault(rule, {})[severity] = int(count)
    for provider, instrument, source, close in rows(_VENDOR_CLOSE):
        found = of(provider, instrument)
        found.vendor_source, found.vendor_close = source, close
    for provider, instrument, close in rows(_COMPUTED_CLOSE):
        of(provider, instrument).computed_close = close
    for provider, instrument, source, interval, vendor, computed in rows(_BAR_PAIRS):
        of(provider, instrument).bar_pairs.append(BarPair(source, interval, vendor, computed))
    for provider, instrument in rows(_LIVE_FEEDS) + rows(_OTHER_PAIRS):
        of(provider, instrument)
    return facts


_COLUMNS = [f.name for f in fields(QualityRow)]
_JSON_COLUMNS = {"gaps_by_reason", "rejects_by_reason", "anomalies_by_rule", "bar_agreement"}


def replace_day(conn: psycopg.Connection[Any], scope: Scope, rows: Iterable[QualityRow]) -> int:
    """Replace the scope's rows of the day with `rows`, in one transaction; returns how many."""
    written = 0
    placeholders = ", ".join(["%s"] * len(_COLUMNS))
    insert = f"INSERT INTO quality_daily ({', '.join(_COLUMNS)}) VALUES ({placeholders})"
    with conn.transaction():
        conn.execute("DELETE FROM quality_daily WHERE day = %(day)s" + _FILTER, scope.params())
        with conn.cursor() as cur:
            values = [
                tuple(
                    Jsonb(value) if name in _JSON_COLUMNS else value
                    for name, value in zip(_COLUMNS, astuple(row), strict=True)
                )
                for row in rows
            ]
            cur.executemany(insert, values)
            written = len(values)
    return written

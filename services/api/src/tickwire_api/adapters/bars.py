"""Reads of the bars table: computed bars (trade, mid; stored at one second and one minute)
aggregated in the database to any interval from 1s to 1d, and vendor bars at the interval the
vendor gave them, side by side; rollup bars from their own views (adapters/rollups.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tickwire_api.adapters.rollups import rollup_bars
from tickwire_api.domain.intervals import base_interval
from tickwire_api.domain.sources import COMPUTED_SOURCES, SourceFilter, interval_name

# Computed bars: open and close follow the bars' start times, not the order rows come back in;
# provider and source stay apart, since trade bars and quote bars of two venues do not mix into
# one. Vendor bars are served as stored: re-bucketing a vendor's trading-day bars on UTC days,
# or its adjusted closes, would make bars the vendor never published. Each half is switched off
# by its flag, so one statement serves every source filter.
_BARS = """
SELECT provider, instrument, time_bucket(%(width)s::interval, start_ts) AS start_ts,
       first(open, start_ts) AS open, max(high) AS high, min(low) AS low,
       last(close, start_ts) AS close, sum(volume) AS volume,
       sum(tick_count)::bigint AS tick_count, source, NULL::float8 AS adj_close,
       bool_or(coalesce(revision, 0) > 0) AS corrected
FROM bars
WHERE %(computed)s
  AND instrument = %(instrument)s
  AND (%(provider)s::text IS NULL OR provider = %(provider)s)
  AND "interval" = %(base)s
  AND source = ANY(%(computed_sources)s)
  AND (%(source)s::text IS NULL OR source = %(source)s)
  AND start_ts >= %(start)s AND start_ts < %(end)s
GROUP BY provider, instrument, 3, source
UNION ALL
SELECT provider, instrument, start_ts, open, high, low, close, volume,
       tick_count::bigint, source, adj_close, coalesce(revision, 0) > 0 AS corrected
FROM bars
WHERE %(vendor)s
  AND instrument = %(instrument)s
  AND (%(provider)s::text IS NULL OR provider = %(provider)s)
  AND "interval" = %(stored)s
  AND source <> ALL(%(computed_sources)s)
  AND (%(source)s::text IS NULL OR source = %(source)s)
  AND start_ts >= %(start)s AND start_ts < %(end)s
ORDER BY 3, 1, 10
"""


def aggregated(
    conn: psycopg.Connection,
    instrument: str,
    provider: str | None,
    seconds: int,
    start: datetime,
    end: datetime,
    sources: SourceFilter,
) -> list[dict[str, Any]]:
    """The bars of [start, end) at `seconds` that `sources` selects, oldest first (then by
    provider and source), as rows of the Bar model's fields but the interval. Binary results:
    floats and times arrive without text parsing."""
    if sources.rollup:  # nothing in the bars table: the rollups are views of their own
        return rollup_bars(conn, instrument, provider, seconds, start, end)
    params = {
        "width": timedelta(seconds=seconds),
        "instrument": instrument,
        "provider": provider,
        "base": base_interval(seconds),
        "stored": interval_name(seconds),
        "computed": sources.computed,
        "vendor": sources.vendor,
        "computed_sources": list(COMPUTED_SOURCES),
        "source": sources.name,
        "start": start,
        "end": end,
    }
    with conn.cursor(row_factory=dict_row, binary=True) as cur:
        return cur.execute(_BARS, params).fetchall()

"""Reads of the bars table: the stored one-second or one-minute bars of an instrument,
aggregated in the database to any interval from 1s to 1d."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tickwire_api.domain.intervals import base_interval

# Open and close follow the bars' start times, not the order rows come back in; provider and
# source stay apart, since trade bars and quote bars of two venues do not mix into one.
_AGGREGATE = """
SELECT provider, instrument, time_bucket(%(width)s::interval, start_ts) AS start_ts,
       first(open, start_ts) AS open, max(high) AS high, min(low) AS low,
       last(close, start_ts) AS close, sum(volume) AS volume,
       sum(tick_count)::bigint AS tick_count, source
FROM bars
WHERE instrument = %(instrument)s
  AND (%(provider)s::text IS NULL OR provider = %(provider)s)
  AND "interval" = %(base)s
  AND start_ts >= %(start)s AND start_ts < %(end)s
GROUP BY provider, instrument, 3, source
ORDER BY 3, provider, source
"""


def aggregated(
    conn: psycopg.Connection,
    instrument: str,
    provider: str | None,
    seconds: int,
    start: datetime,
    end: datetime,
) -> list[dict[str, Any]]:
    """The stored bars of [start, end) aggregated to `seconds`, oldest first, as rows of the Bar
    model's fields but the interval. Binary results: floats and times arrive without text
    parsing."""
    params = {
        "width": timedelta(seconds=seconds),
        "instrument": instrument,
        "provider": provider,
        "base": base_interval(seconds),
        "start": start,
        "end": end,
    }
    with conn.cursor(row_factory=dict_row, binary=True) as cur:
        return cur.execute(_AGGREGATE, params).fetchall()

"""Reads of the rollups bars_1m and bars_1h: trade bars the database keeps from stored ticks,
continuous aggregates on the full TimescaleDB build and plain views on the Apache one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from tickwire_api.domain.sources import ROLLUP, ROLLUP_INTERVALS

# The bucket in seconds -> the rollup holding it: 60 -> bars_1m, 3600 -> bars_1h.
VIEWS = {seconds: f"bars_{name}" for seconds, name in ROLLUP_INTERVALS.items()}

# The same statement on either build, so both serve the same answer: the database decides whether
# the view is materialized. Conditions on instrument and start_ts reach ticks through a plain view
# (chunk exclusion, the instrument index where it pays), and both parts of an aggregate: the
# materialized rows and the real-time ones. The columns are the Bar model's fields but the
# interval, in the order adapters/bars.py gives them.
_ROLLUP = """
SELECT provider, instrument, start_ts, open, high, low, close, volume, tick_count,
       {source}::text AS source, NULL::float8 AS adj_close, false AS corrected
FROM {view}
WHERE instrument = %(instrument)s
  AND (%(provider)s::text IS NULL OR provider = %(provider)s)
  AND start_ts >= %(start)s AND start_ts < %(end)s
ORDER BY start_ts, provider
"""


def rollup_bars(
    conn: psycopg.Connection,
    instrument: str,
    provider: str | None,
    seconds: int,
    start: datetime,
    end: datetime,
) -> list[dict[str, Any]]:
    """The rollup's bars of [start, end) at `seconds` (60 or 3600), oldest first, then by
    provider, as rows of the Bar model's fields but the interval."""
    statement = sql.SQL(_ROLLUP).format(
        source=sql.Literal(ROLLUP), view=sql.Identifier(VIEWS[seconds])
    )
    params = {"instrument": instrument, "provider": provider, "start": start, "end": end}
    with conn.cursor(row_factory=dict_row, binary=True) as cur:
        return cur.execute(statement, params).fetchall()

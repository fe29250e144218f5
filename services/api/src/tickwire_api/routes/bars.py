"""/v1/bars: OHLCV bars at any interval from 1s to 1d, aggregated in the database from the
stored one-second or one-minute bars."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Response
from psycopg.rows import dict_row

from tickwire_api import deps
from tickwire_api.domain.intervals import (
    RangeError,
    base_interval,
    check_buckets,
    interval_seconds,
)
from tickwire_api.models.bars import BarSeries
from tickwire_api.responses import raw_json
from tickwire_api.routes.params import End, Instrument, Interval, Provider, Start, refused
from tickwire_api.settings import ApiSettings

router = APIRouter(prefix="/v1/bars", tags=["bars"])

# Open and close follow the bars' start times, not the order rows come back in; provider and
# source stay apart, since trade bars and quote bars of two venues do not mix into one.
AGGREGATE = """
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


@router.get("", response_model=BarSeries, summary="OHLCV bars of an instrument at any interval")
def bars(
    conn: Annotated[psycopg.Connection, Depends(deps.connection)],
    settings: Annotated[ApiSettings, Depends(deps.settings)],
    instrument: Instrument,
    interval: Interval,
    start: Start,
    end: End,
    provider: Provider = None,
) -> Response:
    """Bars starting in [start, end), oldest first, one per provider and source per bucket."""
    seconds = checked_interval(interval, start, end, settings.max_buckets)
    base = base_interval(seconds)
    rows = aggregated(conn, instrument, provider, seconds, start, end)
    for row in rows:
        row["interval"] = interval
    # The rows are the Bar model's fields with its types already (the response_model documents
    # them): serialized as they are, with no model built per bar, a day of minute bars costs a
    # third of what it did.
    return raw_json(
        {
            "instrument": instrument,
            "provider": provider,
            "interval": interval,
            "base_interval": base,
            "count": len(rows),
            "bars": rows,
        }
    )


def checked_interval(interval: str, start: datetime, end: datetime, max_buckets: int) -> int:
    """The interval in seconds, once it and the buckets of [start, end) are within the caps (a
    422 naming the parameter otherwise)."""
    try:
        seconds = interval_seconds(interval)
        check_buckets(start, end, seconds, max_buckets)
    except RangeError as exc:
        raise refused(exc) from exc
    return seconds


def aggregated(
    conn: psycopg.Connection,
    instrument: str,
    provider: str | None,
    seconds: int,
    start: datetime,
    end: datetime,
) -> list[dict[str, Any]]:
    """The stored bars of [start, end) aggregated to `seconds`, as rows of the Bar model's fields
    but the interval. Binary results: floats and times arrive without text parsing."""
    params = {
        "width": timedelta(seconds=seconds),
        "instrument": instrument,
        "provider": provider,
        "base": base_interval(seconds),
        "start": start,
        "end": end,
    }
    with conn.cursor(row_factory=dict_row, binary=True) as cur:
        return cur.execute(AGGREGATE, params).fetchall()

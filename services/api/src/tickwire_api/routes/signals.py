"""/v1/signals: computed signal values, newest first, filtered by instrument, provider, name,
bar interval and time."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Query
from psycopg.rows import dict_row

from tickwire_api import deps
from tickwire_api.domain.intervals import INTERVAL_PATTERN
from tickwire_api.models.events import Signal, SignalList
from tickwire_api.routes.params import (
    NAME,
    Limit,
    OptionalEnd,
    OptionalInstrument,
    OptionalStart,
    Provider,
    checked_limit,
    checked_optional_range,
)
from tickwire_api.settings import ApiSettings

router = APIRouter(prefix="/v1/signals", tags=["signals"])

_NEWEST = """
SELECT provider, instrument, ts, name, value, parameters, "interval"
FROM signals
WHERE (%(instrument)s::text IS NULL OR instrument = %(instrument)s)
  AND (%(provider)s::text IS NULL OR provider = %(provider)s)
  AND (%(name)s::text IS NULL OR name = %(name)s)
  AND (%(interval)s::text IS NULL OR "interval" = %(interval)s)
  AND (%(start)s::timestamptz IS NULL OR ts >= %(start)s)
  AND (%(end)s::timestamptz IS NULL OR ts < %(end)s)
ORDER BY ts DESC, provider, instrument, name, "interval"
LIMIT %(limit)s
"""


@router.get("", response_model=SignalList, summary="Signal values, newest first")
def signals(
    conn: Annotated[psycopg.Connection, Depends(deps.connection)],
    settings: Annotated[ApiSettings, Depends(deps.settings)],
    instrument: OptionalInstrument = None,
    provider: Provider = None,
    name: Annotated[
        str | None, Query(pattern=NAME, description="Only this signal.", examples=["sma_20"])
    ] = None,
    interval: Annotated[
        str | None,
        Query(pattern=INTERVAL_PATTERN, description="Only this bar interval.", examples=["1m"]),
    ] = None,
    start: OptionalStart = None,
    end: OptionalEnd = None,
    limit: Limit = None,
) -> SignalList:
    checked_optional_range(start, end)
    params = {
        "instrument": instrument,
        "provider": provider,
        "name": name,
        "interval": interval,
        "start": start,
        "end": end,
        "limit": checked_limit(limit, settings.max_limit),
    }
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_NEWEST, params).fetchall()
    return SignalList(count=len(rows), signals=[Signal.model_validate(r) for r in rows])

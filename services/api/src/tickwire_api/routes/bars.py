"""/v1/bars: OHLCV bars at any interval from 1s to 1d, aggregated in the database from the
stored one-second or one-minute bars."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Response

from tickwire_api import deps
from tickwire_api.adapters.bars import aggregated
from tickwire_api.domain.intervals import base_interval
from tickwire_api.models.bars import BarSeries
from tickwire_api.routes.params import BarQuery, bar_query
from tickwire_api.routes.responses import raw_json

router = APIRouter(prefix="/v1/bars", tags=["bars"])


@router.get("", response_model=BarSeries, summary="OHLCV bars of an instrument at any interval")
def bars(
    conn: Annotated[psycopg.Connection, Depends(deps.connection)],
    query: Annotated[BarQuery, Depends(bar_query)],
) -> Response:
    """Bars starting in [start, end), oldest first, one per provider and source per bucket."""
    rows = aggregated(conn, query.instrument, query.provider, query.seconds, query.start, query.end)
    for row in rows:
        row["interval"] = query.interval
    # The rows are the Bar model's fields with its types already (the response_model documents
    # them): serialized as they are, with no model built per bar, a day of minute bars costs a
    # third of what it did.
    return raw_json(
        {
            "instrument": query.instrument,
            "provider": query.provider,
            "interval": query.interval,
            "base_interval": base_interval(query.seconds),
            "count": len(rows),
            "bars": rows,
        }
    )

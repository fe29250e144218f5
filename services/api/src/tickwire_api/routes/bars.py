"""/v1/bars: OHLCV bars at any interval from 1s to 1d: computed bars aggregated in the database
from the stored one-second or one-minute bars, vendor bars at the interval the vendor gave, and
the rollups of stored trades at 1m and 1h."""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Response

from tickwire_api import deps
from tickwire_api.adapters.bars import aggregated
from tickwire_api.domain.intervals import base_interval
from tickwire_api.domain.sources import check_unmixed, interval_name, is_computed
from tickwire_api.models.bars import BarSeries
from tickwire_api.routes.params import BarQuery, bar_query
from tickwire_api.routes.responses import raw_json

router = APIRouter(prefix="/v1/bars", tags=["bars"])


@router.get(
    "",
    response_model=BarSeries,
    summary="OHLCV bars of an instrument at any interval, computed or from a vendor",
)
def bars(
    conn: Annotated[psycopg.Connection, Depends(deps.connection)],
    query: Annotated[BarQuery, Depends(bar_query)],
) -> Response:
    """Bars starting in [start, end), oldest first, one per provider and source per bucket.
    Computed bars (trade, mid) come at any interval; vendor bars (yahoo, binance, ...) at the
    intervals the vendor gave (1m, 5m, 15m, 1h, 4h, 1d). Without `source`, a range holding
    both computed and vendor bars is a 422 that names the sources to choose from. `source=rollup`
    serves the trade bars the database rolls up from stored ticks, at 1m and 1h only."""
    rows = aggregated(
        conn,
        query.instrument,
        query.provider,
        query.seconds,
        query.start,
        query.end,
        query.sources,
    )
    check_unmixed(query.sources, (row["source"] for row in rows))
    for row in rows:
        row["interval"] = query.interval
    # The rows are the Bar model's fields with its types already (the response_model documents
    # them): serialized as they are, with no model built per bar, a day of minute bars costs a
    # third of what it did.
    return raw_json(
        {
            "instrument": query.instrument,
            "provider": query.provider,
            "source": query.source,
            "interval": query.interval,
            "base_interval": _stored(query, rows),
            "count": len(rows),
            "bars": rows,
        }
    )


def _stored(query: BarQuery, rows: list[dict[str, Any]]) -> str:
    """The stored bars served: vendor and rollup bars as they are, computed ones aggregated from
    1s or 1m."""
    vendor_only = not query.sources.computed or (
        bool(rows) and not any(is_computed(row["source"]) for row in rows)
    )
    return interval_name(query.seconds) if vendor_only else base_interval(query.seconds)

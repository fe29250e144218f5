"""/v1/indicators: SMA-20/50, their crossovers and returns per bar, at any interval from 1s to
1d, from the same bars /v1/bars serves (the windows' earlier bars are read too)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Response

from tickwire_api import deps
from tickwire_api.adapters.bars import aggregated
from tickwire_api.domain.indicators import WARM_UP, series_points
from tickwire_api.domain.sources import check_unmixed
from tickwire_api.models.indicators import IndicatorSeries
from tickwire_api.routes.params import BarQuery, bar_query
from tickwire_api.routes.responses import raw_json

router = APIRouter(prefix="/v1/indicators", tags=["bars"])


@router.get("", response_model=IndicatorSeries, summary="SMA-20/50, crossovers and returns per bar")
def indicator_series(
    conn: Annotated[psycopg.Connection, Depends(deps.connection)],
    query: Annotated[BarQuery, Depends(bar_query)],
) -> Response:
    """One point per bar starting in [start, end), per provider and source, oldest first. The
    windows count bars, not clock time: a bucket without trades has no bar and is skipped. The
    50 bars before `start` are read so that the first points' windows are already full."""
    # Bars are sparse: reaching WARM_UP bars back may need more than WARM_UP buckets; this reads
    # WARM_UP buckets, and a window with gaps before start fills up a little later.
    warm_up_start = query.start - WARM_UP * timedelta(seconds=query.seconds)
    bars = aggregated(
        conn,
        query.instrument,
        query.provider,
        query.seconds,
        warm_up_start,
        query.end,
        query.sources,
    )
    # The same rule as /v1/bars, judged on the bars shown (not those read for the warm-up).
    check_unmixed(query.sources, (bar["source"] for bar in bars if bar["start_ts"] >= query.start))
    points = series_points(bars, query.start)
    # Plain values of the model's types, serialized as they are: a model per point cost as much
    # as the rest of the request (see routes/responses.py).
    return raw_json(
        {
            "instrument": query.instrument,
            "provider": query.provider,
            "source": query.source,
            "interval": query.interval,
            "count": len(points),
            "points": points,
        }
    )

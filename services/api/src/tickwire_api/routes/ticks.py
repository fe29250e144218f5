"""/v1/ticks: the stored ticks of an instrument."""

from __future__ import annotations

from typing import Annotated, Literal

import psycopg
from fastapi import APIRouter, Depends, Query
from psycopg.rows import dict_row

from tickwire_api import deps
from tickwire_api.models.ticks import TickPage
from tickwire_api.routes.params import INSTRUMENT, PROVIDER, checked_limit
from tickwire_api.settings import ApiSettings

router = APIRouter(prefix="/v1/ticks", tags=["ticks"])


_LATEST = """
SELECT * FROM ticks
WHERE instrument = %(instrument)s AND (%(provider)s::text IS NULL OR provider = %(provider)s)
  AND (%(kind)s::text IS NULL OR kind = %(kind)s)
ORDER BY exchange_ts DESC, dedup_key DESC
LIMIT %(limit)s
"""


@router.get("/latest", response_model=TickPage, summary="Latest ticks of an instrument")
def latest_ticks(
    conn: Annotated[psycopg.Connection, Depends(deps.connection)],
    settings: Annotated[ApiSettings, Depends(deps.settings)],
    instrument: Annotated[
        str, Query(pattern=INSTRUMENT, description="Unified instrument.", examples=["SIM-BTC-USD"])
    ],
    provider: Annotated[
        str | None,
        Query(pattern=PROVIDER, description="Provider; all when left out.", examples=["simulator"]),
    ] = None,
    kind: Annotated[
        Literal["quote", "trade", "ticker", "gap"] | None,
        Query(description="Only ticks of this kind: kind=quote&limit=1 is the latest quote."),
    ] = None,
    limit: Annotated[
        int | None,
        Query(ge=1, description="Rows to return; default 100, at most max_limit.", examples=[1]),
    ] = None,
) -> TickPage:
    """The newest `limit` ticks of `instrument` (optionally of one `provider` and `kind`),
    newest first."""
    limit = checked_limit(limit, settings.max_limit)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            _LATEST,
            {"instrument": instrument, "provider": provider, "kind": kind, "limit": limit},
        ).fetchall()
    for row in rows:
        row.pop("dedup_key", None)
    return TickPage(provider=provider, instrument=instrument, count=len(rows), ticks=rows)

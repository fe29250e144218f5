"""/v1/ticks: the stored ticks of an instrument."""

from __future__ import annotations

from typing import Annotated, Literal

import psycopg
from fastapi import APIRouter, Depends, Query

from tickwire_api import deps
from tickwire_api.adapters import ticks
from tickwire_api.models.ticks import TickPage
from tickwire_api.routes.params import Instrument, Provider, checked_limit
from tickwire_api.settings import ApiSettings

router = APIRouter(prefix="/v1/ticks", tags=["ticks"])


@router.get("/latest", response_model=TickPage, summary="Latest ticks of an instrument")
def latest_ticks(
    conn: Annotated[psycopg.Connection, Depends(deps.connection)],
    settings: Annotated[ApiSettings, Depends(deps.settings)],
    instrument: Instrument,
    provider: Provider = None,
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
    rows = ticks.latest(conn, instrument, provider, kind, checked_limit(limit, settings.max_limit))
    return TickPage(provider=provider, instrument=instrument, count=len(rows), ticks=rows)

"""/v1/instruments: every instrument with stored ticks, per provider, with the span and size of
its history, from feed_status (one row per feed, kept by the sink as it writes); and every
backfilled instrument with its coverage per source, from the history tables."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Response

from tickwire_api import deps
from tickwire_api.adapters import coverage, status
from tickwire_api.models.instruments import InstrumentList
from tickwire_api.routes.params import OptionalInstrument
from tickwire_api.routes.responses import raw_json

router = APIRouter(prefix="/v1/instruments", tags=["instruments"])


@router.get(
    "",
    response_model=InstrumentList,
    summary="Instruments with stored ticks, and backfilled instruments with their coverage",
)
def instruments(
    conn: Annotated[psycopg.Connection, Depends(deps.connection)],
    instrument: OptionalInstrument = None,
) -> Response:
    """`instruments` costs the same with ten ticks or ten billion; `backfilled` reads the
    history tables' own rows (vendor bars, short volume and interest, backfilled ticks) through
    partial indexes that leave the live rows out: ask for one `instrument` to read only its."""
    rows = status.instruments(conn, instrument)
    return raw_json(
        {
            "count": len(rows),
            "instruments": rows,
            "backfilled": coverage.coverage(conn, instrument),
        }
    )

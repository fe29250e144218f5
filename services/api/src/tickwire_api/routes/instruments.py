"""/v1/instruments: every instrument with stored ticks, per provider, with the span and size of
its history, from feed_status (one row per feed, kept by the sink as it writes), so the answer
costs the same with ten ticks or ten billion."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends

from tickwire_api import deps
from tickwire_api.adapters import status
from tickwire_api.models.instruments import InstrumentList, InstrumentSummary

router = APIRouter(prefix="/v1/instruments", tags=["instruments"])


@router.get("", response_model=InstrumentList, summary="Instruments with stored ticks")
def instruments(
    conn: Annotated[psycopg.Connection, Depends(deps.connection)],
) -> InstrumentList:
    rows = status.instruments(conn)
    return InstrumentList(
        count=len(rows), instruments=[InstrumentSummary.model_validate(r) for r in rows]
    )

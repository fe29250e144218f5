"""/v1/instruments: every instrument with stored ticks, per provider, with the span and size of
its history."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends
from psycopg.rows import dict_row

from tickwire_api import deps
from tickwire_api.models_history import InstrumentList, InstrumentSummary

router = APIRouter(prefix="/v1/instruments", tags=["instruments"])

# Gap events mark missing history; they are not ticks, so they neither count nor bound the span.
_SUMMARY = """
SELECT provider, instrument,
       min(exchange_ts) AS first_tick, max(exchange_ts) AS last_tick, count(*) AS tick_count
FROM ticks
WHERE kind <> 'gap'
GROUP BY provider, instrument
ORDER BY instrument, provider
"""


@router.get("", response_model=InstrumentList, summary="Instruments with stored ticks")
def instruments(
    conn: Annotated[psycopg.Connection, Depends(deps.connection)],
) -> InstrumentList:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_SUMMARY).fetchall()
    return InstrumentList(
        count=len(rows), instruments=[InstrumentSummary.model_validate(r) for r in rows]
    )

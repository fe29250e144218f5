"""/v1/instruments: every instrument with stored ticks, per provider, with the span and size of
its history, from feed_status (one row per feed, kept by the sink as it writes), so the answer
costs the same with ten ticks or ten billion."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends
from psycopg.rows import dict_row

from tickwire_api import deps
from tickwire_api.models.instruments import InstrumentList, InstrumentSummary

router = APIRouter(prefix="/v1/instruments", tags=["instruments"])

# Gap events mark missing history; they are not ticks, so they neither count nor bound the span
# (a feed known only from its gaps is not listed).
_SUMMARY = """
SELECT provider, instrument, first_exchange_ts AS first_tick, last_exchange_ts AS last_tick,
       ticks AS tick_count
FROM feed_status
WHERE ticks > 0
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

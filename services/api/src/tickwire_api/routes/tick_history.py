"""/v1/ticks: the ticks of an instrument in a time range, oldest first, a page at a time; the
cursor of each page is bound to the query it came from."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Query

from tickwire_api import deps
from tickwire_api.adapters import ticks
from tickwire_api.domain.cursor import (
    CursorError,
    TickKey,
    decode_cursor,
    encode_cursor,
    query_fingerprint,
)
from tickwire_api.domain.intervals import check_range_days
from tickwire_api.models.ticks import TickHistoryPage
from tickwire_api.routes.params import (
    End,
    Instrument,
    Limit,
    Provider,
    Start,
    checked_limit,
    invalid,
)
from tickwire_api.settings import ApiSettings

router = APIRouter(prefix="/v1/ticks", tags=["ticks"])


@router.get("", response_model=TickHistoryPage, summary="Ticks of an instrument in a time range")
def tick_history(
    conn: Annotated[psycopg.Connection, Depends(deps.connection)],
    settings: Annotated[ApiSettings, Depends(deps.settings)],
    instrument: Instrument,
    start: Start,
    end: End,
    provider: Provider = None,
    limit: Limit = None,
    cursor: Annotated[
        str | None,
        Query(
            max_length=1024,
            description="`next_cursor` of the previous page.",
            examples=["eyJ0cyI6MTcwMDAwMDAwMDAwMDAwMH0.3q2-7w"],
        ),
    ] = None,
) -> TickHistoryPage:
    """Ticks with `start <= exchange_ts < end`, oldest first; follow `next_cursor` for more."""
    check_range_days(start, end, settings.max_range_days, "TICKWIRE_MAX_RANGE_DAYS")
    rows_wanted = checked_limit(limit, settings.max_limit)
    fingerprint = query_fingerprint(instrument, provider, start.isoformat(), end.isoformat())
    after: TickKey | None = None
    if cursor is not None:
        try:
            after = decode_cursor(cursor, fingerprint)
        except CursorError as exc:
            raise invalid("cursor", str(exc)) from exc
    rows, last = ticks.page(conn, instrument, provider, start, end, after, rows_wanted)
    return TickHistoryPage(
        instrument=instrument,
        provider=provider,
        start=start,
        end=end,
        limit=rows_wanted,
        count=len(rows),
        ticks=rows,
        next_cursor=None if last is None else encode_cursor(last, fingerprint),
    )

"""/v1/ticks: the ticks of an instrument in a time range, oldest first, a page at a time
(keyset pagination: each page starts after the last row of the one before)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query
from psycopg.rows import dict_row

from tickwire_api import deps
from tickwire_api.domain.cursor import (
    CursorError,
    TickKey,
    decode_cursor,
    encode_cursor,
    query_fingerprint,
)
from tickwire_api.domain.intervals import RangeError, check_range_days
from tickwire_api.models.ticks import TickHistoryPage
from tickwire_api.routes.params import (
    End,
    Instrument,
    Limit,
    Provider,
    Start,
    checked_limit,
    invalid,
    refused,
)
from tickwire_api.settings import ApiSettings

router = APIRouter(prefix="/v1/ticks", tags=["ticks"])

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)

# The order is the natural key's, time first, so a page boundary inside one instant loses
# nothing; the cursor holds the same four values.
_PAGE = """
SELECT * FROM ticks
WHERE instrument = %(instrument)s
  AND (%(provider)s::text IS NULL OR provider = %(provider)s)
  AND exchange_ts >= %(start)s AND exchange_ts < %(end)s
  AND (%(after_ts)s::timestamptz IS NULL
       OR (exchange_ts, dedup_key, provider, kind)
          > (%(after_ts)s, %(after_key)s, %(after_provider)s, %(after_kind)s))
ORDER BY exchange_ts, dedup_key, provider, kind
LIMIT %(fetch)s
"""


def _key(row: dict[str, Any]) -> TickKey:
    micros = (row["exchange_ts"] - _EPOCH) // _MICRO
    return TickKey(micros, row["dedup_key"], row["provider"], row["kind"])


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
    try:
        check_range_days(start, end, settings.max_range_days)
    except RangeError as exc:
        raise refused(exc) from exc
    rows_wanted = checked_limit(limit, settings.max_limit)
    fingerprint = query_fingerprint(instrument, provider, start.isoformat(), end.isoformat())
    after: TickKey | None = None
    if cursor is not None:
        try:
            after = decode_cursor(cursor, fingerprint)
        except CursorError as exc:
            raise invalid("cursor", str(exc)) from exc
    params = {
        "instrument": instrument,
        "provider": provider,
        "start": start,
        "end": end,
        "after_ts": None if after is None else _EPOCH + after.exchange_ts * _MICRO,
        "after_key": None if after is None else after.dedup_key,
        "after_provider": None if after is None else after.provider,
        "after_kind": None if after is None else after.kind,
        "fetch": rows_wanted + 1,  # one more than asked tells whether another page exists
    }
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_PAGE, params).fetchall()
    more = len(rows) > rows_wanted
    rows = rows[:rows_wanted]
    next_cursor = encode_cursor(_key(rows[-1]), fingerprint) if more else None
    for row in rows:
        row.pop("dedup_key", None)
    return TickHistoryPage(
        instrument=instrument,
        provider=provider,
        start=start,
        end=end,
        limit=rows_wanted,
        count=len(rows),
        ticks=rows,
        next_cursor=next_cursor,
    )

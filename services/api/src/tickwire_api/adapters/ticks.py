"""Reads of the ticks table: the latest ticks of an instrument, and the tick history a page at a
time (keyset pagination: each page starts after the last row of the one before)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tickwire_api.domain.cursor import TickKey

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_HIDDEN = "dedup_key"  # an internal identity, not part of a tick

_LATEST = """
SELECT * FROM ticks
WHERE instrument = %(instrument)s AND (%(provider)s::text IS NULL OR provider = %(provider)s)
  AND (%(kind)s::text IS NULL OR kind = %(kind)s)
ORDER BY exchange_ts DESC, dedup_key DESC
LIMIT %(limit)s
"""

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


def latest(
    conn: psycopg.Connection, instrument: str, provider: str | None, kind: str | None, limit: int
) -> list[dict[str, Any]]:
    """The newest `limit` ticks of `instrument` (of one provider and kind when given), newest
    first, as rows of the Tick model's fields."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            _LATEST,
            {"instrument": instrument, "provider": provider, "kind": kind, "limit": limit},
        ).fetchall()
    for row in rows:
        row.pop(_HIDDEN, None)
    return rows


def page(
    conn: psycopg.Connection,
    instrument: str,
    provider: str | None,
    start: datetime,
    end: datetime,
    after: TickKey | None,
    limit: int,
) -> tuple[list[dict[str, Any]], TickKey | None]:
    """Up to `limit` ticks of [start, end) that sort after `after`, oldest first, and the key of
    the last one when more follow (None at the end)."""
    params = {
        "instrument": instrument,
        "provider": provider,
        "start": start,
        "end": end,
        "after_ts": None if after is None else _EPOCH + after.exchange_ts * _MICRO,
        "after_key": None if after is None else after.dedup_key,
        "after_provider": None if after is None else after.provider,
        "after_kind": None if after is None else after.kind,
        "fetch": limit + 1,  # one more than asked tells whether another page exists
    }
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_PAGE, params).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    last = _key(rows[-1]) if more else None
    for row in rows:
        row.pop(_HIDDEN, None)
    return rows, last


def _key(row: dict[str, Any]) -> TickKey:
    micros = (row["exchange_ts"] - _EPOCH) // _MICRO
    return TickKey(micros, row["dedup_key"], row["provider"], row["kind"])

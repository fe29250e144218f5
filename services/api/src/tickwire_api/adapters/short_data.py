"""Reads of FINRA's short-sale data a page at a time (keyset pagination, oldest day first):
daily short volume with its ratio to total volume, and short interest by settlement date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import psycopg

from tickwire_api.adapters.export import Columns

_EPOCH_DAY = date(1970, 1, 1)

_FILTERS = """
WHERE (%(instrument)s::text IS NULL OR instrument = %(instrument)s)
  AND (%(provider)s::text IS NULL OR provider = %(provider)s)
  AND (%(start)s::date IS NULL OR {day} >= %(start)s)
  AND (%(end)s::date IS NULL OR {day} < %(end)s)
"""

# The ratio is null for a day with no volume reported rather than a division by zero.
_SHORT_VOLUME = (
    """
SELECT provider, instrument, facility, trade_date, short_volume, short_exempt_volume,
       total_volume, short_volume / NULLIF(total_volume, 0) AS short_volume_ratio, market,
       received_ts
FROM short_volume"""
    + _FILTERS.format(day="trade_date")
    + """
  AND (%(facility)s::text IS NULL OR facility = %(facility)s)
  AND (%(after_day)s::date IS NULL
       OR (trade_date, instrument, provider, facility)
          > (%(after_day)s, %(after_instrument)s, %(after_provider)s, %(after_facility)s))
ORDER BY trade_date, instrument, provider, facility
LIMIT %(fetch)s
"""
)

_SHORT_INTEREST = (
    """
SELECT provider, instrument, settlement_date, short_interest, previous_short_interest,
       average_daily_volume, days_to_cover, market, received_ts
FROM short_interest"""
    + _FILTERS.format(day="settlement_date")
    + """
  AND (%(after_day)s::date IS NULL
       OR (settlement_date, instrument, provider)
          > (%(after_day)s, %(after_instrument)s, %(after_provider)s))
ORDER BY settlement_date, instrument, provider
LIMIT %(fetch)s
"""
)


@dataclass(frozen=True)
class Dataset:
    """One of the two tables: its query, the date column it is ordered by, and the shape of the
    cursor's key: (days since 1970-01-01, instrument, provider[, facility])."""

    query: str
    day: str
    key_shape: tuple[type, ...]


SHORT_VOLUME = Dataset(_SHORT_VOLUME, "trade_date", (int, str, str, str))
SHORT_INTEREST = Dataset(_SHORT_INTEREST, "settlement_date", (int, str, str))


@dataclass(frozen=True)
class Page:
    columns: Columns
    rows: list[tuple[Any, ...]]
    last: tuple[int | str, ...] | None  # the key of the last row when more follow

    def dicts(self) -> list[dict[str, Any]]:
        return [{name: row[i] for name, _, i in self.columns} for row in self.rows]


def page(
    conn: psycopg.Connection,
    dataset: Dataset,
    filters: dict[str, Any],
    after: tuple[int | str, ...] | None,
    limit: int,
) -> Page:
    """Up to `limit` rows matching `filters` (instrument, provider, start, end, and facility for
    short volume; None for any) that sort after `after`, oldest first."""
    parts: list[Any] = [None] * len(dataset.key_shape) if after is None else list(after)
    if after is not None:
        parts[0] = _EPOCH_DAY + timedelta(days=int(parts[0]))
    params = {
        **filters,
        "after_day": parts[0],
        "after_instrument": parts[1],
        "after_provider": parts[2],
        "after_facility": parts[3] if len(parts) > 3 else None,
        "fetch": limit + 1,  # one more than asked tells whether another page exists
    }
    with conn.cursor() as cur:
        rows = cur.execute(dataset.query, params).fetchall()
        columns = [(c.name, c.type_code, i) for i, c in enumerate(cur.description or [])]
    more = len(rows) > limit
    rows = rows[:limit]
    last = _key(dataset, columns, rows[-1]) if more else None
    return Page(columns, rows, last)


def _key(dataset: Dataset, columns: Columns, row: tuple[Any, ...]) -> tuple[int | str, ...]:
    place = {name: i for name, _, i in columns}
    names = [dataset.day, "instrument", "provider", "facility"][: len(dataset.key_shape)]
    values = [row[place[name]] for name in names]
    return ((values[0] - _EPOCH_DAY).days, *values[1:])

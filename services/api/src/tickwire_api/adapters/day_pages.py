"""Rows keyed by a day, read a page at a time (keyset pagination, oldest day first, then
instrument and provider): the short-sale tables and the daily quality report share it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import psycopg

from tickwire_api.adapters.export import Columns

_EPOCH_DAY = date(1970, 1, 1)

# A query's filters on instrument, provider and [start, end) of its day column.
FILTERS = """
WHERE (%(instrument)s::text IS NULL OR instrument = %(instrument)s)
  AND (%(provider)s::text IS NULL OR provider = %(provider)s)
  AND (%(start)s::date IS NULL OR {day} >= %(start)s)
  AND (%(end)s::date IS NULL OR {day} < %(end)s)
"""


@dataclass(frozen=True)
class Dataset:
    """A table: its query (FILTERS, then the cursor's condition on %(after_day)s,
    %(after_instrument)s, %(after_provider)s and for short volume %(after_facility)s), the date
    column it is ordered by, and the shape of the cursor's key: (days since 1970-01-01,
    instrument, provider[, facility])."""

    query: str
    day: str
    key_shape: tuple[type, ...]


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
    """Up to `limit` rows matching `filters` (instrument, provider, start, end, and the table's
    own such as short volume's facility; None for any) that sort after `after`, oldest first."""
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

"""Reads of the tables of records the signals service derives (anomalies, signals): the newest
first, filtered by instrument, provider, time and each table's own columns; one query for both."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row


@dataclass(frozen=True)
class EventTable:
    """A table of derived records, each with its instrument, provider and time `ts`."""

    name: str
    columns: tuple[str, ...]
    filters: tuple[str, ...]
    """Columns a request may match exactly, besides instrument and provider."""
    order: tuple[str, ...]
    """The rest of the natural key after ts, so rows at one instant keep one order."""


ANOMALIES = EventTable(
    "anomalies",
    columns=(
        *("provider", "instrument", "ts", "rule", "severity", "value", "threshold"),
        *("window_mean", "window_stddev", "window_count", "detail"),
    ),
    filters=("severity", "rule"),
    order=("provider", "instrument", "rule"),
)
SIGNALS = EventTable(
    "signals",
    columns=("provider", "instrument", "ts", "name", "value", "parameters", "interval"),
    filters=("name", "interval"),
    order=("provider", "instrument", "name", "interval"),
)


@cache
def _newest_query(table: EventTable) -> sql.Composed:
    matches = [
        sql.SQL("({value}::text IS NULL OR {column} = {value})").format(
            value=sql.Placeholder(column), column=sql.Identifier(column)
        )
        for column in ("instrument", "provider", *table.filters)
    ]
    return sql.SQL(
        "SELECT {columns} FROM {table}\n"
        "WHERE {matches}\n"
        "  AND (%(start)s::timestamptz IS NULL OR ts >= %(start)s)\n"
        "  AND (%(end)s::timestamptz IS NULL OR ts < %(end)s)\n"
        "ORDER BY ts DESC, {order}\n"
        "LIMIT %(limit)s"
    ).format(
        columns=sql.SQL(", ").join(map(sql.Identifier, table.columns)),
        table=sql.Identifier(table.name),
        matches=sql.SQL("\n  AND ").join(matches),
        order=sql.SQL(", ").join(map(sql.Identifier, table.order)),
    )


def newest(
    conn: psycopg.Connection,
    table: EventTable,
    *,
    instrument: str | None,
    provider: str | None,
    filters: Mapping[str, str | None],
    start: datetime | None,
    end: datetime | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Up to `limit` rows of `table`, newest first; a filter left None matches every row, and
    `filters` names each of the table's own filters."""
    if set(filters) != set(table.filters):
        raise ValueError(f"{table.name} filters by {table.filters}, not {tuple(filters)}")
    params = {
        **filters,
        "instrument": instrument,
        "provider": provider,
        "start": start,
        "end": end,
        "limit": limit,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_newest_query(table), params).fetchall()

"""Reads of job_runs, the log every batch command writes (backfill, lake-export, quality,
migrate, topics-check): runs a page at a time, newest first, and the last run of each job."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tickwire_api.adapters.export import Columns

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# arguments as text: JSON pages parse it back, CSV and Parquet carry it as a column of JSON text.
# A run still open has lasted until now, by the database's clock, the one that stamped it.
_COLUMNS = """
SELECT id, job, status, started_at, finished_at,
       extract(epoch FROM coalesce(finished_at, now()) - started_at)::float8 AS duration_s,
       rows, error, host, arguments::text AS arguments
FROM job_runs"""

_RUNS = (
    _COLUMNS
    + """
WHERE (%(job)s::text IS NULL OR job = %(job)s)
  AND (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(from)s::timestamptz IS NULL OR started_at >= %(from)s)
  AND (%(to)s::timestamptz IS NULL OR started_at < %(to)s)
  AND (%(after_started)s::timestamptz IS NULL
       OR (started_at, id) < (%(after_started)s, %(after_id)s))
ORDER BY started_at DESC, id DESC
LIMIT %(fetch)s
"""
)

# The newest run of each job. The log grows by a few rows a day: a scan of it is cheap.
_LATEST = (
    "SELECT DISTINCT ON (job) * FROM ("
    + _COLUMNS
    + ") AS runs ORDER BY job, started_at DESC, id DESC"
)

Key = tuple[int, int]  # (started_at in microseconds since the epoch, id)


@dataclass(frozen=True)
class Page:
    columns: Columns
    rows: list[tuple[Any, ...]]
    last: Key | None  # the key of the last row when more follow

    def dicts(self) -> list[dict[str, Any]]:
        return [as_dict(self.columns, row) for row in self.rows]


def as_dict(columns: Columns, row: tuple[Any, ...]) -> dict[str, Any]:
    run = {name: row[i] for name, _, i in columns}
    run["arguments"] = json.loads(run["arguments"])
    return run


def page(conn: psycopg.Connection, filters: dict[str, Any], after: Key | None, limit: int) -> Page:
    """Up to `limit` runs matching `filters` (job, status, from, to; None for any) that sort
    after `after`, newest first."""
    params = {
        **filters,
        "after_started": None if after is None else _EPOCH + timedelta(microseconds=after[0]),
        "after_id": None if after is None else after[1],
        "fetch": limit + 1,  # one more than asked tells whether another page exists
    }
    with conn.cursor() as cur:
        rows = cur.execute(_RUNS, params).fetchall()
        columns = [(c.name, c.type_code, i) for i, c in enumerate(cur.description or [])]
    more = len(rows) > limit
    rows = rows[:limit]
    last = None
    if more:
        place = {name: i for name, _, i in columns}
        started: datetime = rows[-1][place["started_at"]]
        last = ((started - _EPOCH) // timedelta(microseconds=1), int(rows[-1][place["id"]]))
    return Page(columns, rows, last)


def latest(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """The newest run of each job that has run, by job name."""
    with conn.cursor(row_factory=dict_row) as cur:
        runs = cur.execute(_LATEST).fetchall()
    for run in runs:
        run["arguments"] = json.loads(run["arguments"])
    return runs

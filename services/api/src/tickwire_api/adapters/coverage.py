"""What the history holds per instrument: for each vendor's bars (by interval), FINRA's short
volume and short interest, and backfilled ticks, the first and last day stored and the rows."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

# Days are UTC days, whatever the session's time zone. The predicates on source and history are
# written as the partial indexes of migration 0012 state them, so the planner can use those
# indexes: live bars and ticks are never read.
_COVERAGE = """
SELECT instrument, 'bars' AS dataset, source, provider, "interval",
       (min(start_ts) AT TIME ZONE 'UTC')::date AS first_day,
       (max(start_ts) AT TIME ZONE 'UTC')::date AS last_day, count(*) AS rows
FROM bars
WHERE source NOT IN ('trade', 'mid')
  AND (%(instrument)s::text IS NULL OR instrument = %(instrument)s)
GROUP BY instrument, source, provider, "interval"
UNION ALL
SELECT instrument, 'short_volume', provider, provider, NULL,
       min(trade_date), max(trade_date), count(*)
FROM short_volume
WHERE (%(instrument)s::text IS NULL OR instrument = %(instrument)s)
GROUP BY instrument, provider
UNION ALL
SELECT instrument, 'short_interest', provider, provider, NULL,
       min(settlement_date), max(settlement_date), count(*)
FROM short_interest
WHERE (%(instrument)s::text IS NULL OR instrument = %(instrument)s)
GROUP BY instrument, provider
UNION ALL
SELECT instrument, 'ticks', provider, provider, NULL,
       (min(exchange_ts) AT TIME ZONE 'UTC')::date, (max(exchange_ts) AT TIME ZONE 'UTC')::date,
       count(*)
FROM ticks
WHERE history
  AND kind <> 'gap'
  AND (%(instrument)s::text IS NULL OR instrument = %(instrument)s)
GROUP BY instrument, provider
ORDER BY 1, 2, 3, 4, 5
"""

# Interval names sort as text ("15m" before "1d" before "1m"): sorted here by length instead.
_INTERVAL_SECONDS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}


def _interval_order(name: str | None) -> int:
    if not name or name[-1] not in _INTERVAL_SECONDS or not name[:-1].isdigit():
        return 0
    return int(name[:-1]) * _INTERVAL_SECONDS[name[-1]]


def coverage(conn: psycopg.Connection, instrument: str | None) -> list[dict[str, Any]]:
    """Per backfilled instrument (all, or `instrument`), by name: {instrument, coverage: [...]},
    one coverage entry per dataset, source, provider and interval."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_COVERAGE, {"instrument": instrument}).fetchall()
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row.pop("instrument"), []).append(row)
    for entries in found.values():
        entries.sort(
            key=lambda e: (e["dataset"], e["source"], e["provider"], _interval_order(e["interval"]))
        )
    return [{"instrument": name, "coverage": entries} for name, entries in found.items()]

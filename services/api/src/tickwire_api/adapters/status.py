"""Reads of the tables the sink keeps about the pipeline as it writes: feed_status (one row per
feed: its instrument's span, counts, freshness, last gap) and service_status (heartbeats)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

# Gap events mark missing history; they are not ticks, so they neither count nor bound the span
# (a feed known only from its gaps is not listed).
_INSTRUMENTS = """
SELECT provider, instrument, first_exchange_ts AS first_tick, last_exchange_ts AS last_tick,
       ticks AS tick_count
FROM feed_status
WHERE ticks > 0 AND (%(instrument)s::text IS NULL OR instrument = %(instrument)s)
ORDER BY instrument, provider
"""

# Ages from the database's clock, the one that stamped updated_at and heartbeat_at.
_FEEDS = """
SELECT provider, instrument, last_exchange_ts, last_received_ts, ticks, gaps,
       last_gap_start, last_gap_end, last_gap_reason, updated_at,
       extract(epoch FROM now() - last_exchange_ts)::float8 AS age_s
FROM feed_status
WHERE (%(instrument)s::text IS NULL OR instrument = %(instrument)s)
  AND (%(provider)s::text IS NULL OR provider = %(provider)s)
ORDER BY provider, instrument
"""

_SERVICES = """
SELECT service, instance, heartbeat_at,
       extract(epoch FROM now() - heartbeat_at)::float8 AS heartbeat_age_s,
       rows_in, rows_out, rows_refused, batches_failed, circuit, last_error, last_error_at, lag,
       started_at
FROM service_status
ORDER BY service, instance
"""

Rows = list[dict[str, Any]]


def instruments(conn: psycopg.Connection, instrument: str | None = None) -> Rows:
    """Every feed with stored ticks (of `instrument` when given), with the span and size of its
    history."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_INSTRUMENTS, {"instrument": instrument}).fetchall()


def pipeline(
    conn: psycopg.Connection, instrument: str | None, provider: str | None
) -> tuple[Rows, Rows]:
    """The feeds (all, or those of `instrument` / `provider`) with the age of their newest tick,
    and every service instance with the age of its last heartbeat."""
    with conn.cursor(row_factory=dict_row) as cur:
        feeds = cur.execute(_FEEDS, {"instrument": instrument, "provider": provider}).fetchall()
        services = cur.execute(_SERVICES).fetchall()
    return feeds, services

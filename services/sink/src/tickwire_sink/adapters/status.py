"""Writes the pipeline status tables: feed_status, one upsert per batch from the batch's feed
updates, and service_status, the heartbeat rows of service instances (the sink's own, and those
the other services send on the status topic)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

from tickwire_core.clock import now_us
from tickwire_sink.domain.status import FeedUpdate, SinkCounters

_MICROS = "timestamptz 'epoch' + {} * interval '1 microsecond'"
# The batch's gap is the feed's last when it is at least as new as the stored one.
_NEWER_GAP = (
    "EXCLUDED.last_gap_start IS NOT NULL"
    " AND (f.last_gap_start IS NULL OR EXCLUDED.last_gap_start >= f.last_gap_start)"
)

# GREATEST and the gap's CASE keep what is stored when the batch is older (a replay), so times
# only move forward; GREATEST skips NULLs, which a feed with gap events only leaves.
_FEEDS = f"""
INSERT INTO feed_status AS f (provider, instrument, first_exchange_ts, last_exchange_ts,
                              last_received_ts, ticks, gaps, last_gap_start, last_gap_end,
                              last_gap_reason, updated_at)
SELECT u.provider, u.instrument, {_MICROS.format("u.first_ts")},
       {_MICROS.format("u.exchange_ts")}, {_MICROS.format("u.received_ts")}, u.ticks, u.gaps,
       {_MICROS.format("u.gap_start")}, {_MICROS.format("u.gap_end")}, u.gap_reason, now()
FROM unnest(%s::text[], %s::text[], %s::int8[], %s::int8[], %s::int8[], %s::int8[], %s::int8[],
            %s::int8[], %s::int8[], %s::text[])
     AS u (provider, instrument, first_ts, exchange_ts, received_ts, ticks, gaps, gap_start,
           gap_end, gap_reason)
ON CONFLICT (provider, instrument) DO UPDATE SET
    first_exchange_ts = LEAST(f.first_exchange_ts, EXCLUDED.first_exchange_ts),
    last_exchange_ts = GREATEST(f.last_exchange_ts, EXCLUDED.last_exchange_ts),
    last_received_ts = GREATEST(f.last_received_ts, EXCLUDED.last_received_ts),
    ticks = f.ticks + EXCLUDED.ticks,
    gaps = f.gaps + EXCLUDED.gaps,
    last_gap_start = GREATEST(f.last_gap_start, EXCLUDED.last_gap_start),
    last_gap_end = CASE WHEN {_NEWER_GAP}
                        THEN EXCLUDED.last_gap_end ELSE f.last_gap_end END,
    last_gap_reason = CASE WHEN {_NEWER_GAP}
                           THEN EXCLUDED.last_gap_reason ELSE f.last_gap_reason END,
    updated_at = now()
"""

# Heartbeats, the sink's own and those from the status topic, each stamped with its sender's clock.
# A redelivered or reordered heartbeat older than the stored one changes nothing.
_REPORTED = f"""
INSERT INTO service_status AS s (service, instance, heartbeat_at, rows_in, rows_out,
                                 rows_refused, batches_failed, circuit, last_error, last_error_at,
                                 lag, started_at, unmapped_fields)
SELECT r.service, r.instance, {_MICROS.format("r.ts")}, r.rows_in, r.rows_out, r.rows_refused,
       r.batches_failed, r.circuit, r.last_error, {_MICROS.format("r.last_error_ts")}, r.lag,
       {_MICROS.format("r.started_ts")}, r.unmapped_fields::jsonb
FROM unnest(%s::text[], %s::text[], %s::int8[], %s::int8[], %s::int8[], %s::int8[], %s::int8[],
            %s::int8[], %s::text[], %s::text[], %s::int8[], %s::int8[], %s::text[])
     AS r (service, instance, ts, started_ts, rows_in, rows_out, rows_refused, batches_failed,
           circuit, last_error, last_error_ts, lag, unmapped_fields)
ON CONFLICT (service, instance) DO UPDATE SET
    heartbeat_at = EXCLUDED.heartbeat_at,
    rows_in = EXCLUDED.rows_in,
    rows_out = EXCLUDED.rows_out,
    rows_refused = EXCLUDED.rows_refused,
    batches_failed = EXCLUDED.batches_failed,
    circuit = EXCLUDED.circuit,
    last_error = EXCLUDED.last_error,
    last_error_at = EXCLUDED.last_error_at,
    lag = EXCLUDED.lag,
    started_at = EXCLUDED.started_at,
    unmapped_fields = EXCLUDED.unmapped_fields
WHERE s.heartbeat_at <= EXCLUDED.heartbeat_at
"""

_HEARTBEAT_FIELDS = (
    "service",
    "instance",
    "ts",
    "started_ts",
    "rows_in",
    "rows_out",
    "rows_refused",
    "batches_failed",
    "circuit",
    "last_error",
    "last_error_ts",
    "lag",
)


def write_feeds(conn: psycopg.Connection, updates: Sequence[FeedUpdate]) -> None:
    """Apply one batch's feed updates in one statement and one transaction."""
    if not updates:
        return
    columns = (
        [u.provider for u in updates],
        [u.instrument for u in updates],
        [u.first_exchange_ts for u in updates],
        [u.last_exchange_ts for u in updates],
        [u.last_received_ts for u in updates],
        [u.new_ticks for u in updates],
        [u.new_gaps for u in updates],
        [u.last_gap_start for u in updates],
        [u.last_gap_end for u in updates],
        [u.last_gap_reason for u in updates],
    )
    with conn.transaction():
        conn.execute(_FEEDS, columns)


def write_heartbeat(
    conn: psycopg.Connection, service: str, instance: str, counters: SinkCounters
) -> None:
    """Overwrite the instance's row with its counters, as a heartbeat sent now."""
    now = now_us()
    write_reported(
        conn,
        [
            {
                "service": service,
                "instance": instance,
                "ts": now,
                "started_ts": counters.started_at if counters.started_at is not None else now,
                "rows_in": counters.rows_in,
                "rows_out": counters.rows_out,
                "rows_refused": counters.rows_refused,
                "batches_failed": counters.batches_failed,
                "circuit": counters.circuit,
                "last_error": counters.last_error,
                "last_error_ts": counters.last_error_at,
                "lag": counters.lag,
            }
        ],
    )


def write_reported(conn: psycopg.Connection, heartbeats: Sequence[Mapping[str, Any]]) -> int:
    """Keep the newest heartbeat of each instance; returns how many rows changed."""
    if not heartbeats:
        return 0
    newest: dict[tuple[str, str], Mapping[str, Any]] = {}
    for beat in heartbeats:  # one row per instance per statement: ON CONFLICT needs it
        key = (beat["service"], beat["instance"])
        if key not in newest or beat["ts"] >= newest[key]["ts"]:
            newest[key] = beat
    columns = [[beat[name] for beat in newest.values()] for name in _HEARTBEAT_FIELDS]
    # normalize's unmapped venue fields, as JSON text (null for the other services and for
    # heartbeats written before the field existed)
    columns.append([_json(beat.get("unmapped_fields")) for beat in newest.values()])
    with conn.transaction():
        cursor = conn.execute(_REPORTED, columns)
    return max(cursor.rowcount, 0)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)

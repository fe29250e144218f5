"""The backfill's state in the database: watermarks (how far each source/dataset/instrument is
fetched and acknowledged by the broker) and the run log, on one autocommit connection."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tickwire_ingest.domain.history.plan import Step

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

RUNNING = "running"
DONE = "done"
FAILED = "failed"
INTERRUPTED = "interrupted"


def to_time(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def to_us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


class BackfillStore:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn  # autocommit: each statement is durable when it returns

    def missing_tables(self) -> list[str]:
        found = self.conn.execute(
            "SELECT to_regclass('backfill_watermarks'), to_regclass('backfill_runs')"
        ).fetchone()
        names = ("backfill_watermarks", "backfill_runs")
        return [
            name for name, there in zip(names, found or (None, None), strict=True) if there is None
        ]

    def watermarks(self, source: str, dataset: str) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT instrument, watermark_ts FROM backfill_watermarks"
            " WHERE source = %s AND dataset = %s",
            (source, dataset),
        ).fetchall()
        return {instrument: to_us(ts) for instrument, ts in rows}

    def advance(self, step: Step, covered_until: int) -> None:
        """Move the watermark forward, never back: a --restart refetching an old range leaves
        the later mark where it was, since everything before it is published already."""
        self.conn.execute(
            "INSERT INTO backfill_watermarks (source, dataset, instrument, watermark_ts)"
            " VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (source, dataset, instrument) DO UPDATE"
            " SET watermark_ts = GREATEST(backfill_watermarks.watermark_ts, EXCLUDED.watermark_ts),"
            "     updated_at = now()",
            (step.source, step.dataset, step.instrument, to_time(covered_until)),
        )

    def start_run(self, step: Step) -> int:
        row = self.conn.execute(
            "INSERT INTO backfill_runs (source, dataset, instrument, since_ts, until_ts)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (step.source, step.dataset, step.instrument, to_time(step.since), to_time(step.until)),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def progress(self, run_id: int, pages: int, fetched: int, published: int) -> None:
        self.conn.execute(
            "UPDATE backfill_runs SET pages = %s, fetched = %s, published = %s WHERE id = %s",
            (pages, fetched, published, run_id),
        )

    def finish(self, run_id: int, status: str, error: str | None = None) -> None:
        self.conn.execute(
            "UPDATE backfill_runs SET status = %s, error = %s, finished_at = now() WHERE id = %s",
            (status, error, run_id),
        )

    def settled(
        self, run_id: int, stored: int, already_present: int, rejected: Mapping[str, int]
    ) -> None:
        self.conn.execute(
            "UPDATE backfill_runs SET stored = %s, already_present = %s, rejected = %s"
            " WHERE id = %s",
            (stored, already_present, json.dumps(dict(rejected)), run_id),
        )

    def recent(self, limit: int, source: str | None = None) -> Sequence[dict[str, Any]]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                "SELECT id, source, dataset, instrument, since_ts, until_ts, started_at,"
                " finished_at, status, pages, fetched, published, stored, already_present,"
                " rejected, error FROM backfill_runs"
                " WHERE %(source)s::text IS NULL OR source = %(source)s"
                " ORDER BY started_at DESC, id DESC LIMIT %(limit)s",
                {"source": source, "limit": limit},
            )
            return cur.fetchall()

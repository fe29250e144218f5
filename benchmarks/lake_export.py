"""Export rate of the lake: a day of N ticks (1M by default) exported by `export_day` into a local
folder and into the S3-compatible store the suite uses (SeaweedFS), in rows per second.

    python benchmarks/lake_export.py [--ticks N] [--instruments K] [--to local,s3]

Starts its own PostgreSQL (durable settings; or uses DATABASE_URL) and SeaweedFS. The day mixes
quotes (60%), trades (30%) and tickers (10%) over K instruments of 3 venues, inserted in SQL. Each
export starts from an empty lake, so every row is read, written and committed; a rerun of the
unchanged day is timed as well (the summary query alone)."""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

import psycopg
from bench_db import fresh_schema
from bench_stack import bench_stack

from tickwire_core.localstack.objectstore import LocalObjectStore
from tickwire_jobs.adapters.lake_store import LakeStore
from tickwire_jobs.domain.lake_kinds import KINDS
from tickwire_jobs.lake_export import export_day

DAY = date(2026, 3, 5)
VENUES = ("binance", "kraken", "deribit")


def fill(url: str, ticks: int, instruments: int) -> None:
    """N ticks spread evenly over the day and over K instruments."""
    step_us = 86_400_000_000 // ticks
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            f"""
            INSERT INTO ticks (exchange_ts, received_ts, provider, instrument, kind, dedup_key,
                bid_price, bid_amount, ask_price, ask_amount, last_traded_price,
                last_traded_volume, trade_id, side, mark_price, current_funding, open_interest,
                ingest_instance, ingest_seq, venue_instrument)
            SELECT ts, ts + interval '4 ms', (ARRAY{list(VENUES)})[1 + n % 3],
                   'INST-' || (n % {instruments}), kind, kind || ':' || n,
                   CASE WHEN kind = 'quote' THEN 100 + random() END,
                   CASE WHEN kind = 'quote' THEN round((random() * 10)::numeric, 4) END,
                   CASE WHEN kind = 'quote' THEN 100.5 + random() END,
                   CASE WHEN kind = 'quote' THEN round((random() * 10)::numeric, 4) END,
                   CASE WHEN kind = 'trade' THEN 100 + random() END,
                   CASE WHEN kind = 'trade' THEN round((random() * 2)::numeric, 6) END,
                   CASE WHEN kind = 'trade' THEN 'T' || n END,
                   CASE WHEN kind = 'trade' THEN (ARRAY['buy', 'sell'])[1 + n % 2] END,
                   CASE WHEN kind = 'ticker' THEN 100.2 + random() END,
                   CASE WHEN kind = 'ticker' THEN random() / 1000 END,
                   CASE WHEN kind = 'ticker' THEN 1e6 + n END,
                   'primary', n, 'inst' || (n % {instruments})
            FROM generate_series(0, {ticks - 1}) AS n,
                 LATERAL (SELECT '{DAY.isoformat()}T00:00:00Z'::timestamptz
                                 + n * interval '{step_us} microseconds' AS ts,
                                 CASE WHEN n % 10 < 6 THEN 'quote'
                                      WHEN n % 10 < 9 THEN 'trade' ELSE 'ticker' END AS kind) AS t
            """  # type: ignore[arg-type]
        )
        conn.execute("ANALYZE ticks")


def timed_export(url: str, store: LakeStore, what: str, ticks: int) -> None:
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        result = export_day(conn, store, DAY, KINDS, version="bench")
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = export_day(conn, store, DAY, KINDS, version="bench")
        rerun = time.perf_counter() - started
    assert result.rows_written == ticks and again.unchanged
    print(
        f"{what}: {ticks:,} rows in {first:.1f}s = {ticks / first:,.0f} rows/s "
        f"({result.files_written} files); unchanged rerun {rerun:.1f}s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=1_000_000)
    parser.add_argument("--instruments", type=int, default=12)
    parser.add_argument("--to", default="local,s3", help="where to export: local, s3 or both")
    args = parser.parse_args()
    print(f"{platform.node()}: {os.cpu_count()} cores, {platform.machine()}, {date.today()}")
    with tempfile.TemporaryDirectory(prefix="tickwire-bench-lake-") as work:
        root = Path(work)
        objects = LocalObjectStore(root / "s3", bucket="lake")
        with (
            bench_stack(root, kafka=False) as stack,
            fresh_schema(stack.database_url, "lake") as url,
        ):
            started = time.perf_counter()
            fill(url, args.ticks, args.instruments)
            print(f"filled {args.ticks:,} ticks in {time.perf_counter() - started:.1f}s")
            if "local" in args.to:
                local = root / "lake"
                timed_export(url, LakeStore.from_url(str(local)), "local folder", args.ticks)
                size = sum(p.stat().st_size for p in local.rglob("*.parquet"))
                print(f"  Parquet: {size / 1e6:.1f} MB, {size / args.ticks:.1f} bytes/tick")
            if "s3" in args.to:
                objects.start()
                try:
                    os.environ.update(objects.aws_environ())
                    store = LakeStore.from_url("s3://lake/bench")
                    timed_export(url, store, "S3 (SeaweedFS)", args.ticks)
                finally:
                    objects.stop()


if __name__ == "__main__":
    main()

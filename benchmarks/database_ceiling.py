"""The database's ceiling on this machine: PostgreSQL's own binary COPY of tick rows from a file
into the ticks hypertable (the sink's migrations, fresh schema), by psql, in one session and in two.

N rows shaped as the sink's benchmark writes them (60 % quotes, 30 % trades, 10 % wide tickers
with twenty more fields, each with its dedup key, ingest sequence and instance) are made in SQL,
written once to a binary COPY file (untimed), then loaded by `psql -c "\\copy ticks FROM ..."`
into an empty hypertable: one session the whole file, then, into another fresh schema, two psql
sessions at once, each half the rows (alternate rows, so both write the same time range as sink
processes with the partitions split would). Timed from starting psql to the last one's exit; the
count is checked. PostgreSQL runs with its durable settings. The sink does more per row (COPY into
a staging table, then INSERT ... ON CONFLICT DO NOTHING into ticks), so this bounds it from above.

Usage: python benchmarks/database_ceiling.py [--rows N]
(DATABASE_URL, when set, names the database to use; psql must be on PATH)"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from bench_db import fresh_schema
from bench_results import record
from bench_stack import bench_stack

# One row per i: exchange time 200 us apart from a fixed day, received 1 ms later.
_ROWS = """
INSERT INTO made (exchange_ts, received_ts, provider, instrument, kind, dedup_key, bid_price,
                  bid_amount, ask_price, ask_amount, last_traded_price, last_traded_volume)
SELECT ts, ts + interval '1 ms', 'simulator', 'SIM-' || mod(i, 4), kind,
       CASE kind WHEN 'trade' THEN 't' ELSE 's' END || i,
       CASE WHEN booked THEN 65000 + mod(i, 97) END, CASE WHEN booked THEN 0.5 + mod(i, 7) END,
       CASE WHEN booked THEN 65000.5 + mod(i, 97) END, CASE WHEN booked THEN 0.25 + mod(i, 5) END,
       CASE WHEN NOT booked THEN 65000.25 + mod(i, 89) END,
       CASE WHEN NOT booked THEN 0.01 * (1 + mod(i, 13)) END
FROM (
  SELECT i, timestamptz '2026-01-05 00:00:00+00' + i * interval '200 us' AS ts,
         CASE WHEN mod(i, 10) < 6 THEN 'quote' WHEN mod(i, 10) < 9 THEN 'trade' ELSE 'ticker'
         END AS kind,
         mod(i, 10) < 6 OR mod(i, 10) = 9 AS booked  -- quotes and tickers carry a book
  FROM generate_series(1, %(rows)s) AS i
) AS made_up
"""
_SEQUENCES = """
UPDATE made SET ingest_instance = 'primary', ingest_seq = substr(dedup_key, 2)::bigint,
                   venue_seq = substr(dedup_key, 2)::bigint,
                   trade_id = CASE kind WHEN 'trade' THEN dedup_key END,
                   side = CASE kind WHEN 'trade' THEN 'buy' END
"""
# The wide part of a Deribit ticker: what makes those rows three times the size of a quote.
_TICKERS = """
UPDATE made SET index_price = bid_price, mark_price = bid_price + 1,
  mark_implied_volatility = 55.5, bid_implied_volatility = 54.1, ask_implied_volatility = 56.2,
  min_price = bid_price - 900, max_price = bid_price + 900, settlement_price = bid_price - 10,
  estimated_delivery_price = bid_price, underlying_index = 'btc_usd', underlying_price = bid_price,
  current_funding = 0.0001, funding_8h = 0.00004, open_interest = 123456789, volume_24h = 98765,
  volume_usd_24h = 6.4e9, price_percent_change_24h = 1.25, high_24h = bid_price + 1200,
  low_24h = bid_price - 1300, delta = 0.51,
  gamma = 0.0001, vega = 12.5, theta = -30.2, rho = 0.4, interest_rate = 0.0
WHERE kind = 'ticker'
"""


def make_files(url: str, rows: int, folder: Path) -> tuple[Path, list[Path]]:
    """The N rows as one binary COPY file, and as two files of alternate rows."""
    whole, halves = folder / "ticks.copy", [folder / "ticks-even.copy", folder / "ticks-odd.copy"]
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TEMP TABLE made (LIKE ticks INCLUDING DEFAULTS)")
        conn.execute(_ROWS, {"rows": rows})
        conn.execute(_SEQUENCES)
        conn.execute(_TICKERS)
        for path, where in (
            (whole, "true"),
            (halves[0], "ingest_seq % 2 = 0"),
            (halves[1], "ingest_seq % 2 = 1"),
        ):
            query = f"COPY (SELECT * FROM made WHERE {where}) TO STDOUT (FORMAT BINARY)"
            with conn.cursor().copy(query) as copy, open(path, "wb") as out:  # type: ignore[arg-type]
                for chunk in copy:
                    out.write(chunk)
    return whole, halves


def copy_in(url: str, files: list[Path], rows: int) -> float:
    """Seconds for one psql session per file, all at once, to COPY them into ticks."""
    psql = shutil.which("psql")
    if psql is None:
        raise SystemExit("psql is not on PATH (it comes with the PostgreSQL client)")
    started = time.monotonic()
    sessions = [
        subprocess.Popen(
            [
                psql,
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                url,
                "-c",
                f"\\copy ticks FROM '{path}' WITH (FORMAT binary)",
            ],
        )
        for path in files
    ]
    codes = [session.wait() for session in sessions]
    seconds = time.monotonic() - started
    if any(codes):
        raise SystemExit(f"psql exited with {codes}")
    with psycopg.connect(url) as conn:
        stored = conn.execute("SELECT count(*) FROM ticks").fetchone()
    if stored is None or stored[0] != rows:
        raise SystemExit(f"COPY stored {stored} rows, expected {rows}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tickwire-copy-"))
    figures: dict[str, float] = {}
    with bench_stack(work, kafka=False) as stack:
        with fresh_schema(stack.database_url, "copy_files") as url:
            whole, halves = make_files(url, args.rows, work)
        size = whole.stat().st_size
        print(
            f"file: {args.rows:,} tick rows, {size / 1e6:.1f} MB binary COPY "
            f"({size / args.rows:.0f} bytes a row)"
        )
        for sessions, files in ((1, [whole]), (2, halves)):
            with fresh_schema(stack.database_url, "copy_ceiling") as url:
                seconds = copy_in(url, files, args.rows)
            rate = args.rows / seconds
            name = "1_session" if sessions == 1 else f"{sessions}_sessions"
            figures[f"copy_rows_per_s_{name}"] = rate
            print(
                f"COPY into ticks, {sessions} session{'s' if sessions > 1 else ''}: "
                f"{args.rows:,} rows in {seconds:.2f} s -> {rate:,.0f} rows/s"
            )
    record("database_ceiling", figures)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

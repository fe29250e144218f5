"""Bytes per stored tick before and after TimescaleDB compression: a synthetic day of ticks (1M by
default) written by the sink's writer into the full build's ticks table, then its chunk compressed.

    python benchmarks/compression_size.py [--ticks N]

Starts its own PostgreSQL on the full TimescaleDB build (or uses DATABASE_URL, whose server must
run the timescale license). The day mixes 3 venues and 12 instruments: quotes (60%), trades (30%)
and tickers with funding, open interest and mark prices (10%), prices on random walks."""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from bench_db import fresh_schema

from tickwire_core.localstack.postgres import LocalPostgres
from tickwire_core.localstack.timescaledb import TIMESCALE
from tickwire_core.serde import AvroSerde
from tickwire_sink.adapters.ticks import TickWriter

VENUES = ("binance", "kraken", "deribit")
INSTRUMENTS = ("BTC-USD", "ETH-USD", "SOL-USD", "XRP-USD")
DAY_US = 86_400_000_000
BATCH = 50_000


def day_of_ticks(count: int, day_start: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """`count` ticks spread evenly over one day, in time order, each feed on its own random walk."""
    rng = random.Random(seed)
    feeds = [(v, i) for v in VENUES for i in INSTRUMENTS]
    price = {feed: 100.0 * (n + 1) for n, feed in enumerate(feeds)}
    seq = dict.fromkeys(feeds, 0)
    step = DAY_US / count
    for n in range(count):
        feed = feeds[rng.randrange(len(feeds))]
        provider, instrument = feed
        ts = day_start + int(n * step)
        price[feed] *= 1 + rng.gauss(0, 0.0002)
        mid = round(price[feed], 2)
        seq[feed] += 1
        tick: dict[str, Any] = {
            "provider": provider,
            "instrument": instrument,
            "exchange_ts": ts,
            "received_ts": ts + rng.randrange(200, 5_000),
            "venue_instrument": instrument.replace("-", ""),
            "venue_seq": seq[feed],
            "ingest_instance": "ingest-0",
            "ingest_seq": n,
        }
        roll = rng.random()
        if roll < 0.6:
            tick |= {
                "kind": "quote",
                "bid_price": mid - 0.01,
                "ask_price": mid + 0.01,
                "bid_amount": round(rng.uniform(0.01, 5), 4),
                "ask_amount": round(rng.uniform(0.01, 5), 4),
            }
        elif roll < 0.9:
            tick |= {
                "kind": "trade",
                "last_traded_price": mid,
                "last_traded_volume": round(rng.expovariate(2), 4),
                "trade_id": f"{provider}-{seq[feed]}",
                "side": rng.choice(("buy", "sell")),
            }
        else:
            tick |= {
                "kind": "ticker",
                "mark_price": mid,
                "index_price": round(mid * (1 + rng.gauss(0, 0.0001)), 2),
                "open_interest": round(1e6 + rng.uniform(-1e4, 1e4), 1),
                "current_funding": round(rng.gauss(0.0001, 0.00005), 8),
                "volume_24h": round(rng.uniform(1e4, 1e5), 2),
                "high_24h": round(mid * 1.02, 2),
                "low_24h": round(mid * 0.98, 2),
            }
        yield tick


def sizes(conn: psycopg.Connection) -> tuple[int, int, int]:
    """(heap and toast, indexes, total) bytes of ticks, compressed parts included."""
    row = conn.execute(
        "SELECT sum(table_bytes + coalesce(toast_bytes, 0)), sum(index_bytes), sum(total_bytes)"
        " FROM hypertable_detailed_size('ticks')"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def measure(url: str, count: int) -> None:
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(10)
    day_start = int(day.timestamp() * 1_000_000)
    with fresh_schema(url, "bench_compression") as in_schema, psycopg.connect(in_schema) as conn:
        license_ = conn.execute("SHOW timescaledb.license").fetchone()
        if license_ != (TIMESCALE,):
            raise SystemExit(f"the server runs timescaledb.license={license_}: no compression")
        writer = TickWriter(conn, AvroSerde().schema("tick"))
        began, batch = time.monotonic(), []
        for tick in day_of_ticks(count, day_start):
            batch.append(tick)
            if len(batch) == BATCH:
                writer.write(batch)
                batch = []
        writer.write(batch)
        written = time.monotonic() - began
        conn.commit()
        before = sizes(conn)
        began = time.monotonic()
        conn.execute("SELECT compress_chunk(c) FROM show_chunks('ticks') c")
        conn.commit()
        compressed_in = time.monotonic() - began
        after = sizes(conn)
    print(
        f"{count} ticks of {day:%Y-%m-%d} written in {written:.1f}s,"
        f" compressed in {compressed_in:.1f}s"
    )
    for label, (data, index, total) in (("uncompressed", before), ("compressed", after)):
        print(
            f"{label:>12}: {total / count:6.1f} bytes/tick total"
            f" (data {data / count:6.1f}, indexes {index / count:6.1f}; {total / 2**20:7.1f} MiB)"
        )
    print(f"ratio: {before[2] / after[2]:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=1_000_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if url:
        measure(url, args.ticks)
        return
    with tempfile.TemporaryDirectory(prefix="tickwire-bench-") as work:
        postgres = LocalPostgres(Path(work) / "postgres", timescaledb_license=TIMESCALE)
        postgres.start()
        try:
            measure(postgres.dsn, args.ticks)
        finally:
            postgres.stop()


if __name__ == "__main__":
    main()

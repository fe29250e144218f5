"""p50/p99 latency of the API's main endpoints with N ticks (10 million by default) in TimescaleDB.

A fresh PostgreSQL (started here, or the one DATABASE_URL names, in a schema of its own) is loaded
by SQL with N ticks over K instruments and DAYS days (a quote or a trade every few tens of
milliseconds per instrument), the one-minute and one-second bars the signals service would have
stored, and feed_status as the sink keeps it. `python -m tickwire_api` then serves it, and one
client on a kept-alive connection asks each endpoint R times, a random instrument and window each
time, timing each request from sending to the last byte read. Targets: latest quote p99 < 10 ms,
one day of 1-minute bars p99 < 50 ms.

The rollups case (`--case rollups`) times a day of 1-minute bars with source=rollup on each
TimescaleDB build, each a PostgreSQL started here (DATABASE_URL is not used): a day of trades,
one a second per instrument, read through the plain view bars_1m on the Apache build and through
the continuous aggregate, refreshed, on the full one.
Usage: python benchmarks/api_latency.py [N] [--instruments K] [--days D] [--requests R]
       [--case all|endpoints|rollups] [--rollup-requests R]"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from bench_db import fresh_schema

from tickwire_core.localstack._process import free_port, spawn, tail
from tickwire_core.localstack.postgres import LocalPostgres
from tickwire_core.localstack.timescaledb import APACHE, TIMESCALE

END = datetime(2026, 11, 20, tzinfo=UTC)  # fixed, so every run loads the same history
TARGETS_MS = {"latest quote": 10.0, "1 day of 1m bars": 50.0}

# Ticks by generate_series: instrument i of K, tick j of its share; every `trade_every`-th a trade
# (the others quotes). Prices are a smooth walk so bars and quotes are plausible; the natural key
# is unique by construction.
_TICKS = """
INSERT INTO ticks (exchange_ts, received_ts, provider, instrument, kind, dedup_key, bid_price,
                   bid_amount, ask_price, ask_amount, last_traded_price, last_traded_volume,
                   venue_seq, ingest_instance, ingest_seq)
SELECT ts, ts + interval '3 ms', 'simulator', 'BENCH-' || i, kind, j::text,
       CASE WHEN kind = 'quote' THEN price - 0.01 END, CASE WHEN kind = 'quote' THEN 1.5 END,
       CASE WHEN kind = 'quote' THEN price + 0.01 END, CASE WHEN kind = 'quote' THEN 2.0 END,
       CASE WHEN kind = 'trade' THEN price END, CASE WHEN kind = 'trade' THEN 0.25 END,
       j, 'primary', j
FROM generate_series(0, %(k)s::int4 - 1) AS i,
     generate_series(%(first)s::int8, %(last)s::int8) AS j,
     LATERAL (SELECT %(end)s::timestamptz - (%(per)s::int8 - j) * %(step)s::interval AS ts,
                     CASE WHEN j %% %(trade_every)s = 0 THEN 'trade' ELSE 'quote' END AS kind,
                     100 + i + 5 * sin(j / 5000.0) AS price) AS t
"""

_BARS = """
INSERT INTO bars (provider, instrument, "interval", start_ts, open, high, low, close, volume,
                  tick_count, source)
SELECT 'simulator', 'BENCH-' || i, %(name)s, start_ts, p, p + 0.05, p - 0.05, p + 0.01, 12.5, 40,
       'trade'
FROM generate_series(0, %(k)s::int4 - 1) AS i,
     generate_series(%(from)s::timestamptz, %(end)s::timestamptz - %(width)s::interval,
                     %(width)s::interval) AS start_ts,
     LATERAL (SELECT 100 + i + 5 * sin(extract(epoch FROM start_ts) / 500.0) AS p) AS b
"""

_FEEDS = """
INSERT INTO feed_status (provider, instrument, first_exchange_ts, last_exchange_ts,
                         last_received_ts, ticks, gaps)
SELECT provider, instrument, min(exchange_ts), max(exchange_ts), max(received_ts), count(*), 0
FROM ticks GROUP BY provider, instrument
"""


def insert_ticks(
    conn: psycopg.Connection, k: int, per: int, step: timedelta, trade_every: int
) -> None:
    """`per` ticks per instrument, `step` apart, ending at END."""
    started = time.perf_counter()
    chunk = 200_000  # per statement: progress, and no single huge transaction
    for first in range(0, per, chunk):
        last = min(per, first + chunk) - 1
        conn.execute(
            _TICKS,
            {
                "k": k,
                "first": first,
                "last": last,
                "end": END,
                "per": per,
                "step": step,
                "trade_every": trade_every,
            },
        )
        done = (last + 1) * k
        rate = done / (time.perf_counter() - started)
        print(f"\r  ticks {done:>12,} of {per * k:,} ({rate:,.0f}/s)", end="", flush=True)
    print()


def load(url: str, n: int, k: int, days: int) -> None:
    per = n // k
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        insert_ticks(conn, k, per, timedelta(days=days) / per, trade_every=4)
        for name, width, span in (("1m", "1 minute", days), ("1s", "1 second", 1)):
            conn.execute(
                _BARS,
                {
                    "k": k,
                    "name": name,
                    "width": width,
                    "from": END - timedelta(days=span),
                    "end": END,
                },
            )
        conn.execute(_FEEDS)
        conn.execute("VACUUM ANALYZE")
    print(
        f"  loaded in {time.perf_counter() - started:,.0f} s ({per * k:,} ticks, {k} instruments,"
        f" {days} days; 1m bars over {days} days, 1s bars over the last day)"
    )


def api(url: str, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TICKWIRE_API_PORT": str(port),
        "TICKWIRE_API_HOST": "127.0.0.1",
        "TICKWIRE_ALLOW_ANONYMOUS": "true",
        # One client sends every request: the figures are the routes', not the rate limit's.
        "TICKWIRE_RATE_LIMIT_PER_S": "0",
        "TICKWIRE_LOG_LEVEL": "WARNING",
    }
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    process = spawn([sys.executable, "-m", "tickwire_api"], log, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return process, port
        time.sleep(0.2)
    raise RuntimeError(f"the API did not get ready:\n{tail(log)}")


def measure(port: int, paths: Callable[[random.Random], str], requests: int) -> list[float]:
    rng = random.Random(11)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(20):  # warm: the pool's connections, prepared statements, caches
        conn.request("GET", paths(rng))
        conn.getresponse().read()
    times = []
    for _ in range(requests):
        path = paths(rng)
        started = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        times.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body[:300]!r}")
    return times


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1]


def endpoints(k: int, days: int) -> dict[str, Callable[[random.Random], str]]:
    def instrument(rng: random.Random) -> str:
        return f"BENCH-{rng.randrange(k)}"

    def day(rng: random.Random) -> tuple[str, str]:
        start = END - timedelta(days=days) + timedelta(minutes=rng.randrange((days - 1) * 1440))
        return start.isoformat(), (start + timedelta(days=1)).isoformat()

    def minute(rng: random.Random) -> tuple[str, str]:
        start = END - timedelta(days=days) + timedelta(seconds=rng.randrange(days * 86_400 - 60))
        return start.isoformat(), (start + timedelta(minutes=1)).isoformat()

    def q(path: str, **params: str) -> str:
        return f"{path}?{urllib.parse.urlencode(params)}"

    def ranged(
        path: str, window: Callable[[random.Random], tuple[str, str]], **fixed: str
    ) -> Callable[[random.Random], str]:
        def make(rng: random.Random) -> str:
            start, end = window(rng)
            return q(path, instrument=instrument(rng), start=start, end=end, **fixed)

        return make

    return {
        "latest quote": lambda r: q(
            "/v1/ticks/latest", instrument=instrument(r), kind="quote", limit="1"
        ),
        "1 day of 1m bars": ranged("/v1/bars", day, interval="1m"),
        "1 day of 15m bars": ranged("/v1/bars", day, interval="15m"),
        "1 day of 1m indicators": ranged("/v1/indicators", day, interval="1m"),
        "ticks, 1 minute, first page of 1000": ranged("/v1/ticks", minute, limit="1000"),
        "instruments": lambda _r: "/v1/instruments",
        "status": lambda _r: "/v1/status",
    }


def time_endpoints(args: argparse.Namespace, work: Path) -> None:
    """The main endpoints on N ticks, in a schema of the server DATABASE_URL names or of one
    started here."""
    url, postgres, process = os.environ.get("DATABASE_URL"), None, None
    try:
        if not url:
            postgres = LocalPostgres(work / "postgres", fast_unsafe=True)  # loading only
            postgres.start()
            url = postgres.dsn
        with fresh_schema(url, "bench_api") as target:
            load(target, args.n, args.instruments, args.days)
            process, port = api(target, work / "api.log")
            print(f"{'endpoint':<42}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}  target")
            for name, paths in endpoints(args.instruments, args.days).items():
                report(name, measure(port, paths, args.requests))
    finally:
        if process is not None:
            process.terminate()
            process.wait(30)
        if postgres is not None:
            postgres.stop()


def report(name: str, times: list[float]) -> None:
    p50, p99 = percentile(times, 50), percentile(times, 99)
    goal = TARGETS_MS.get(name)
    verdict = ""
    if goal is not None:
        verdict = f"p99 < {goal:g} ms: " + ("met" if p99 < goal else "missed")
    print(f"{name:<42}{p50:>9.2f}{p99:>9.2f}{max(times):>9.2f}  {verdict}")


# What reads bars_1m on each build: the migrations make a plain view on the Apache one and a
# real-time continuous aggregate on the full one.
ROLLUP_PATHS = {APACHE: "plain view", TIMESCALE: "continuous aggregate"}


def time_rollups(args: argparse.Namespace, work: Path) -> None:
    """A day of 1-minute rollup bars on each build: trades one a second per instrument for the
    day before END, all materialized by a refresh on the full build, then the same requests."""
    k, day = args.instruments, (END - timedelta(days=1)).isoformat()
    fixed = {"interval": "1m", "source": "rollup", "start": day, "end": END.isoformat()}

    def day_of_bars(rng: random.Random) -> str:
        query = {"instrument": f"BENCH-{rng.randrange(k)}", **fixed}
        return f"/v1/bars?{urllib.parse.urlencode(query)}"

    answers = []
    for build, path in ROLLUP_PATHS.items():
        # No job scheduler: the refresh policy would materialize at a moment of its own choosing.
        postgres = LocalPostgres(
            work / build, fast_unsafe=True, timescaledb_license=build, background_jobs=False
        )
        process = None
        try:
            postgres.start()
            with fresh_schema(postgres.dsn, "bench_rollups") as target:
                started = time.perf_counter()
                with psycopg.connect(target, autocommit=True) as conn:
                    insert_ticks(conn, k, 86_400, timedelta(seconds=1), trade_every=1)
                    if build == TIMESCALE:  # a refresh cannot run in a transaction
                        conn.execute("CALL refresh_continuous_aggregate('bars_1m', NULL, NULL)")
                    conn.execute("VACUUM ANALYZE")
                took = time.perf_counter() - started
                print(f"  {build}: {86_400 * k:,} trades stored in {took:,.0f} s")
                process, port = api(target, work / f"api-{build}.log")
                times = measure(port, day_of_bars, args.rollup_requests)
                answers.append(fetch(port, day_of_bars(random.Random(0))))
                report(f"1 day of 1m rollups, {path}", times)
        finally:
            if process is not None:
                process.terminate()
                process.wait(30)
            postgres.stop()
    bars = len(json.loads(answers[0])["bars"])
    print(f"  {bars} bars a day; the same answer on both builds: {answers[0] == answers[-1]}")


def fetch(port: int, path: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    return conn.getresponse().read()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=10_000_000, help="ticks")
    parser.add_argument("--instruments", type=int, default=20)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--requests", type=int, default=2000, help="per endpoint")
    parser.add_argument("--case", choices=("all", "endpoints", "rollups"), default="all")
    parser.add_argument("--rollup-requests", type=int, default=50, help="per build")
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},")
    print(f"load average {os.getloadavg()[0]:.2f} at the start")
    work = Path(tempfile.mkdtemp(prefix="tickwire-bench-api-"))
    if args.case in ("all", "endpoints"):
        time_endpoints(args, work)
    if args.case in ("all", "rollups"):
        time_rollups(args, work)
    shutil.rmtree(work, ignore_errors=True)  # kept after a failure: the logs are there
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

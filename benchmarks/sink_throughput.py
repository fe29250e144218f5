"""Throughput of one sink process (Kafka -> TimescaleDB) on a pre-filled ticks topic, beside a
naive writer (one INSERT per row, autocommit) into a fresh table, and (--profile) what bounds it.

N normalized ticks (simulator, Binance and Deribit instruments: quotes, trades and tickers, each
with the dedup key normalize gives it) fill a fresh ticks topic; `python -m tickwire_sink`, with
its default settings and a consumer group of its own, writes them into a fresh schema, timed by its
rows counter (/metrics) from its first rows to the N-th. The local PostgreSQL runs with its durable
settings (fsync, synchronous commit and full-page writes on), not the tests' fast_unsafe ones.
--profile runs Avro decode, row mapping and the writer in-process (no Kafka) under cProfile.
Usage: python benchmarks/sink_throughput.py [N] [--processes P] [--naive-rows R] [--instruments K]
[--profile] (--processes: P sink processes in one consumer group, timed by their summed counters)
(KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL, when set, name the broker and database to use)"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from bench_db import fresh_schema
from bench_rates import per
from bench_results import record
from bench_stack import bench_stack
from confluent_kafka import Producer
from proc_stats import cpu_seconds, family_cpu, peak_rss_mib
from psycopg import sql

from tickwire_core.batch import Consumed
from tickwire_core.clock import now_us
from tickwire_core.identity import dedup_key
from tickwire_core.localstack._process import free_port, spawn, tail
from tickwire_core.publisher import Publisher
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import TICKS, create_topics, tick_key
from tickwire_sink.adapters.ticks import TickWriter
from tickwire_sink.handler import SinkHandler
from tickwire_sink.settings import SinkSettings
from tickwire_testing.ticks import quote, trade

Instrument = tuple[str, str, str, float]
INSTRUMENTS: list[Instrument] = [  # provider, venue instrument, unified instrument, starting mid
    ("simulator", "SIM-BTC-USD", "SIM-BTC-USD", 65_000.0),
    ("simulator", "SIM-ETH-USD", "SIM-ETH-USD", 3_500.0),
    ("simulator", "SIM-SOL-USD", "SIM-SOL-USD", 150.0),
    ("simulator", "SIM-EUR-USD", "SIM-EUR-USD", 1.08),
    ("binance", "BTCUSDT", "BTC-USDT", 65_000.0),
    ("binance", "ETHUSDT", "ETH-USDT", 3_500.0),
    ("binance", "BNBBTC", "BNB-BTC", 0.0091),
    ("deribit", "BTC-PERPETUAL", "BTC-USD-PERP", 65_000.0),
    ("deribit", "ETH-PERPETUAL", "ETH-USD-PERP", 3_500.0),
]
TICKER_PRICES = ("mark_price", "index_price", "last_traded_price", "estimated_delivery_price")
SHARES = {"simulator": 0.7, "binance": 0.2, "deribit": 0.1}
TIMEOUT_S = 600.0  # for all N ticks to be written
SPACING_US = 100  # 10,000 ticks a second of event time: 500,000 span under a minute
BATCH = SinkSettings.model_fields["batch_size"].default
DEFAULT_N = 500_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Encoded = list[tuple[bytes, bytes]]  # (Kafka key, Avro value) of each tick
Servers = dict[str, int]  # the pids of the servers started here, by name


def ticks(n: int, seed: int, instruments: list[Instrument]) -> list[dict[str, Any]]:
    """n ticks as normalize emits them: a random walk per instrument, event times near now."""
    rng, mids = random.Random(seed), {venue: mid for _, venue, _, mid in instruments}
    by_provider = {p: [row[1:3] for row in instruments if row[0] == p] for p in SHARES}
    shares = {p: share for p, share in SHARES.items() if by_provider[p]}
    start, out = now_us() - n * SPACING_US, []
    for i in range(n):
        provider = rng.choices(list(shares), list(shares.values()))[0]
        venue_instrument, instrument = rng.choice(by_provider[provider])
        mids[venue_instrument] *= 1 + rng.gauss(0.0, 0.0002)
        mid, ts, size = mids[venue_instrument], start + i * SPACING_US, rng.lognormvariate(0, 1)
        bid, ask = mid * (1 - rng.uniform(5e-5, 2e-4)), mid * (1 + rng.uniform(5e-5, 2e-4))
        common: dict[str, Any] = {"provider": provider, "received_ts": ts + rng.randint(200, 5_000)}
        common.update(venue_instrument=venue_instrument, ingest_instance="primary", ingest_seq=i)
        if provider == "deribit":  # a ticker: the widest row the venues send
            tick = quote(instrument, ts, round(bid, 1), round(ask, 1), kind="ticker", **common)
            for name in TICKER_PRICES:
                tick[name] = round(mid * (1 + rng.gauss(0.0, 1e-4)), 2)
            tick.update(bid_amount=rng.randint(1, 500) * 10.0, ask_amount=size * 1_000)
            tick.update(order_book_state="open", current_funding=1e-5, funding_8h=3e-5)
            tick.update(min_price=mid * 0.98, max_price=mid * 1.02, open_interest=5e8 + i)
            tick.update(volume_24h=9e3 + i / 100, volume_usd_24h=6e8 + i, high_24h=mid * 1.01)
            tick.update(low_24h=mid * 0.99, price_percent_change_24h=round(rng.gauss(0, 2), 4))
        elif rng.random() < 0.25:
            side, trade_id = rng.choice(("buy", "sell")), str(400_000_000 + i)
            tick = trade(instrument, ts, mid, size, trade_id=trade_id, side=side, **common)
        else:
            tick = quote(instrument, ts, bid, ask, venue_seq=900_000_000 + i, **common)
            tick.update(bid_amount=round(size, 5), ask_amount=round(rng.lognormvariate(0, 1), 5))
        tick["dedup_key"] = dedup_key(tick)
        out.append(tick)
    return out


def rows_written(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
        text = response.read().decode()
    found = re.search(r'^tickwire_sink_rows_written_total\{table="ticks"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def stored(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM ticks").fetchone()
    return int(row[0]) if row else 0


def fill(bootstrap: str, topic: str, records: Encoded) -> None:
    # Compressed as normalize produces (lz4 batches), so the sink decompresses what it would.
    config = {"bootstrap.servers": bootstrap, "log_level": 3, "linger.ms": 5}
    config.update({"enable.idempotence": True, "compression.type": "lz4"})
    publisher = Publisher(Producer(config), AvroSerde())
    for key, value in records:
        publisher.send_bytes(topic, key, value)
    publisher.flush(timeout=120)


def run_sink(
    bootstrap: str, url: str, records: Encoded, servers: Servers, work: Path, processes: int
) -> float | None:
    """Rows per second of `processes` sink processes in one consumer group, from their first
    rows to the N-th; 0.0 if one failed, None if they had written all N by their first rows seen
    (too few to time)."""
    n, prefix = len(records), f"benchsink{uuid.uuid4().hex[:6]}."
    create_topics(bootstrap, prefix=prefix)
    fill(bootstrap, prefix + TICKS, records)
    ports, sinks, logs = [free_port() for _ in range(processes)], [], []
    spawned = time.monotonic()
    for k, port in enumerate(ports):
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "DATABASE_URL": url}
        env.update(TICKWIRE_TOPIC_PREFIX=prefix, TICKWIRE_CONSUMER_GROUP=f"{prefix}sink")
        env.update(TICKWIRE_HEALTH_HOST="127.0.0.1", TICKWIRE_HEALTH_PORT=str(port))
        env.update(TICKWIRE_INSTANCE_ID=f"bench-sink-{k}")  # each its own status row
        logs.append(work / f"sink-{k}.log")
        sinks.append(spawn([sys.executable, "-m", "tickwire_sink"], logs[-1], env=env))
    # When the first rows were seen: the time, the rows, the sinks' CPU and each server's.
    first: tuple[float, float, float, dict[str, dict[int, float]]] | None = None
    written, deadline = 0.0, spawned + TIMEOUT_S
    try:
        while (
            written < n
            and all(sink.poll() is None for sink in sinks)
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
            try:
                written = sum(rows_written(port) for port in ports)
            except OSError:
                continue  # not listening yet
            if first is None and written > 0:
                at = {name: family_cpu(pid) for name, pid in servers.items()}
                first = time.monotonic(), written, sum(cpu_seconds(s.pid) for s in sinks), at
        done, cpu = time.monotonic(), sum(cpu_seconds(sink.pid) for sink in sinks)
        peaks = [peak_rss_mib(sink.pid) for sink in sinks]
        at_end = {name: family_cpu(pid) for name, pid in servers.items()}
    finally:
        for sink in sinks:
            sink.send_signal(signal.SIGTERM)
        for sink in sinks:
            sink.wait(60)
    rows = stored(url)
    if first is None or written < n or rows != n:
        print(f"FAILED: {written:,.0f} rows counted, {rows:,} stored of {n:,}")
        for log in logs:
            print(f"{log}:\n{tail(log)}")
        return 0.0
    seconds, counted, used = done - first[0], n - first[1], cpu - first[2]
    rate, per_cpu = per(counted, seconds), per(counted, used)
    what = "one sink process" if processes == 1 else f"{processes} sink processes, one group"
    print(f"{what}, default settings (batch size {BATCH:,}); {first[0] - spawned:.1f} s")
    if rate is None:
        print(f"from its start to its first rows, which were all {n:,}: too few to time;")
        print(f"  {rows:,} rows stored, as many as ticks sent; a rate needs several batches'")
        print(f"  worth of ticks (by default {DEFAULT_N:,})")
        return None
    print(f"from its start to its first rows, then {seconds:.2f} s for the next {counted:,.0f}:")
    print(f"  {rate:,.0f} rows/s; {rows:,} rows stored, as many as ticks sent")
    cpu_rate = f"{per_cpu:,.0f} rows per CPU second" if per_cpu else "under one clock tick"
    print(f"  CPU: {used:.1f} s after its first rows ({cpu_rate})")
    print(f"  peak RSS (VmHWM): {', '.join(f'{peak:.0f}' for peak in peaks)} MiB")
    costs = {"sink": 1e6 * used / counted}
    for name, now in at_end.items():  # a process that ended in between is not counted
        spent = sum(cpu_s - first[3][name].get(pid, 0.0) for pid, cpu_s in now.items())
        print(f"  {name}'s CPU in that time: {spent:.1f} s")
        costs[name] = 1e6 * spent / counted
    # The sink and PostgreSQL work one after the other on a batch; the broker only serves fetches.
    in_series = costs["sink"] + costs.get("PostgreSQL", 0.0)
    figures: dict[str, float | None] = {f"cpu_us_per_row:{k}": v for k, v in costs.items()}
    record("sink_throughput", {**figures, "bound_per_s": 1e6 / in_series})
    return counted / seconds


def naive(url: str, records: Encoded, limit_s: float) -> float:
    """Rows per second of one INSERT ... ON CONFLICT DO NOTHING per tick, each its own commit."""
    serde = AvroSerde()
    with psycopg.connect(url, autocommit=True) as conn:
        mapping = TickWriter(conn, serde.schema("tick"))
        names = ["exchange_ts", "received_ts", "dedup_key", *mapping.columns]
        time_fields = serde.time_fields("tick")
        times = [i for i, name in enumerate(names) if name in time_fields]
        insert = sql.SQL("INSERT INTO ticks ({}) VALUES ({}) ON CONFLICT DO NOTHING").format(
            sql.SQL(", ").join(map(sql.Identifier, names)),
            sql.SQL(", ").join(sql.Placeholder() * len(names)),
        )
        began, deadline, done = time.perf_counter(), time.monotonic() + limit_s, 0
        for _, value in records:
            row = list(mapping.rows([serde.decode("tick", value)])[0])
            for i in times:
                if row[i] is not None:
                    row[i] = EPOCH + timedelta(microseconds=row[i])
            conn.execute(insert, row)
            done += 1
            if time.monotonic() > deadline:
                break
        seconds = time.perf_counter() - began
    rows = stored(url)
    print(f"naive baseline: {done:,} ticks decoded and inserted one by one, autocommit each,")
    print(f"  in {seconds:.1f} s: {done / seconds:,.0f} rows/s ({rows:,} rows stored)")
    return done / seconds if rows == done else 0.0


def profile(url: str, records: Encoded, top: int) -> None:
    """The sink's work without Kafka, in batches as it consumes them: Avro decode, then its
    handler's row mapping and writer (binary COPY into staging, INSERT ... ON CONFLICT)."""
    serde, spent = AvroSerde(), [0.0, 0.0, 0.0]  # decode, handler, the handler's own CPU

    def run(target: str) -> None:
        handler = SinkHandler(target, serde, {TICKS: "tick"})
        for start in range(0, len(records), BATCH):
            t0 = time.perf_counter()
            batch = [
                Consumed(TICKS, 0, start + i, key, value, serde.decode("tick", value))
                for i, (key, value) in enumerate(records[start : start + BATCH])
            ]
            t1, c1 = time.perf_counter(), time.process_time()
            handler(batch)
            spent[0] += t1 - t0
            spent[1] += time.perf_counter() - t1
            spent[2] += time.process_time() - c1
        handler.close()

    with fresh_schema(url, "bench_profile") as target:
        run(target)
        rows, total = stored(target), spent[0] + spent[1]
    print(f"in-process, no Kafka: {rows:,} rows in {total:.2f} s, {rows / total:,.0f} rows/s")
    print(f"  Avro decode (tick)           {spent[0]:6.2f} s  {100 * spent[0] / total:5.1f} %")
    print(f"  handler (mapping + writer)   {spent[1]:6.2f} s  {100 * spent[1] / total:5.1f} %")
    print(f"    of which this process' CPU {spent[2]:6.2f} s; the rest waits on PostgreSQL")
    profiler = cProfile.Profile()
    with fresh_schema(url, "bench_profile") as target:  # fresh: no row is a conflict
        profiler.runcall(run, target)
    pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(top)


def positive(text: str) -> int:
    """A count of at least one: with none, there is nothing to time."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a count of at least 1")
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=positive, default=DEFAULT_N, help="ticks")
    parser.add_argument(
        "--naive-rows", type=positive, default=20_000, help="rows the baseline writes"
    )
    parser.add_argument("--naive-seconds", type=float, default=60.0, help="its time limit")
    parser.add_argument("--profile", action="store_true", help="cProfile in-process, no Kafka")
    parser.add_argument("--top", type=int, default=25, help="functions the profile lists")
    parser.add_argument("--instruments", type=int, help="K simulated instruments instead")
    parser.add_argument(
        "--processes", type=positive, default=1, help="sink processes in one consumer group"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},")
    print(f"load average {os.getloadavg()[0]:.2f} at the start")
    serde, instruments = AvroSerde(), INSTRUMENTS
    if args.instruments:  # as many feeds, each written in a transaction of its own per batch
        names = [f"SIM-S{i}-USD" for i in range(args.instruments)]
        instruments = [("simulator", name, name, 100.0 + i) for i, name in enumerate(names)]
    records = [
        (tick_key(t["provider"], t["instrument"]), serde.encode("tick", t))
        for t in ticks(args.n, args.seed, instruments)
    ]
    work = Path(tempfile.mkdtemp(prefix="tickwire-bench-sink-"))
    code = 1
    try:
        # The profile runs the writer in-process: no broker.
        with bench_stack(work, kafka=not args.profile) as stack:
            url = stack.database_url
            if args.profile:
                profile(url, records, args.top)
                code = 0
            else:
                assert stack.bootstrap is not None
                with fresh_schema(url, "bench_sink") as target:
                    sink = run_sink(
                        stack.bootstrap, target, records, stack.servers, work, args.processes
                    )
                with fresh_schema(url, "bench_naive") as target:
                    baseline = naive(target, records[: args.naive_rows], args.naive_seconds)
                if sink is None and baseline:  # the sink's rate is not measured: nothing to compare
                    code = 0
                elif sink and baseline:
                    print(f"sink / naive: {sink / baseline:,.1f} times")
                    record(
                        "sink_throughput",
                        {
                            "rows_per_s": sink,
                            "naive_rows_per_s": baseline,
                            "times_naive": sink / baseline,
                            "processes": args.processes,
                        },
                    )
                    targets = {"rows/s": (sink, 50_000), "times naive": (sink / baseline, 20)}
                    for what, (value, goal) in targets.items():
                        verdict = "met" if value >= goal else f"missed by {1 - value / goal:.0%}"
                        print(f"  target {goal:,.0f} {what}: {verdict}")
                    code = 0
    finally:
        if code == 0:
            shutil.rmtree(work, ignore_errors=True)  # the stack's data; a failure keeps its logs
    return code


if __name__ == "__main__":
    raise SystemExit(main())

"""Sustained end to end: every service (ingest's simulator as fast as it publishes, normalize,
signals, the sink, the API), each its own process, for S seconds on the local stack.

What it measures, beside the 200,000-tick burst of e2e_throughput.py:
- the rate the sink stores ticks once the run is warm (from W seconds to S, by the sink's own
  rows counter, read each 5 s), which a short run cannot tell from the JVM's and the services'
  warm-up;
- the CPU each process spends a tick in that window (ingest's per tick it published, as it runs
  ahead of the rest), and the rate those costs allow on this machine's cores: the profile of
  the end-to-end figure;
- each service's RSS every second, its peak in the first and the last part of the run;
- after S the feed stops cleanly and the pipeline drains; then every tick published to the raw
  topic must be stored exactly once (one row per ingest sequence 1..published).

Usage: python benchmarks/e2e_sustained.py [--seconds 600] [--warmup 120] [--drain 900] [--rate 0]
(KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL, when set, name the broker and database to use)"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import time
import uuid
from pathlib import Path

import psycopg
from bench_results import RESULTS_DIR_VARIABLE, record
from bench_stack import on_a_stack, simulator_pipeline
from chaos_soak import fold, summary, write_csv
from chaos_watch import rss_mib
from confluent_kafka import Consumer, TopicPartition
from proc_stats import thread_cpu
from run_costs import cpu_now, start_counting_cpu
from sink_throughput import rows_written
from sustained_figures import Stored, Window, ceiling, cpu_per_tick_us

from tickwire_core.topics import RAW_TICKS


def main() -> int:
    args = parse_args()
    return on_a_stack(lambda *stack: run(args, *stack))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="how long the feed runs")
    parser.add_argument("--warmup", type=float, default=120.0, help="left out of the rate")
    parser.add_argument("--drain", type=float, default=900.0, help="most to wait after the feed")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="ticks a second the feed publishes; 0 (the default) as fast as it can, so the rest "
        "runs behind a backlog; a rate the pipeline keeps up with shows memory without one",
    )
    args = parser.parse_args()
    if not 0 < args.warmup < args.seconds:
        parser.error("--warmup must be above 0 and below --seconds")
    return args


def published(bootstrap: str, topic: str) -> int:
    """Records on the raw topic: ingest's producer is idempotent, not transactional, so the end
    offsets count records and nothing else."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"end-{uuid.uuid4().hex}"})
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        return sum(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1]
            for p in partitions
        )
    finally:
        consumer.close()


def run(
    args: argparse.Namespace, bootstrap: str, database_url: str, servers: dict[str, int], work: Path
) -> bool:
    pipeline, like = simulator_pipeline(
        work, bootstrap, database_url, count=0, rate=args.rate, mark="S"
    )
    prefix = pipeline.topic_prefix
    start_counting_cpu(pipeline, servers)
    sink_port = pipeline.services["sink"].port
    pids = {name: svc.process.pid for name, svc in pipeline.services.items() if svc.process}
    pids.update({name: pid for name, pid in servers.items() if name == "the Kafka broker"})
    memory: dict[str, list[tuple[float, float]]] = {name: [] for name in pids}
    counts: list[tuple[float, float]] = []
    began = time.monotonic()
    warm_cpu: dict[str, float] = {}
    warm_cpu_at, published_warm = (began, 0.0), 0
    broker_threads_warm: dict[str, float] = {}
    try:
        while (now := time.monotonic()) < began + args.seconds:
            for name, pid in pids.items():
                if (mib := rss_mib(pid)) is not None:
                    memory[name].append((now, mib))
            if not counts or now - counts[-1][0] >= 5.0:
                counts.append((now, rows_written(sink_port)))
            if not warm_cpu and now >= began + args.warmup:
                warm_cpu = cpu_now(pipeline, servers)
                warm_cpu_at = (now, counts[-1][1])
                published_warm = published(bootstrap, prefix + RAW_TICKS)
                broker_threads_warm = thread_cpu(pids.get("the Kafka broker"))
            time.sleep(1.0)
        end_cpu = cpu_now(pipeline, servers)
        end_at = (time.monotonic(), rows_written(sink_port))
        broker_threads = thread_cpu(pids.get("the Kafka broker"))
        published_end = published(bootstrap, prefix + RAW_TICKS)
        ingest = pipeline.services["ingest"].process
        assert ingest is not None
        ingest.send_signal(signal.SIGTERM)  # a clean stop: its producer flushes what it holds
        ingest_code = ingest.wait(60)
        total = published(bootstrap, prefix + RAW_TICKS)
        drained = drain(database_url, like, total, args.drain)
        check = stored_exactly_once(database_url, like, total)
    finally:
        pipeline.stop()
    window = Window(warm_cpu_at[0], end_at[0], warm_cpu_at[1], end_at[1])
    per_tick = cpu_per_tick_us(warm_cpu, end_cpu, window.ticks)
    # Ingest's cost is per tick it published: at full speed it runs ahead of what is stored.
    per_tick["ingest"] *= window.ticks / max(1, published_end - published_warm)
    cores = os.cpu_count() or 1
    rate = window.rate
    print(
        f"machine: {platform.machine()} {cores} cores, Python {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(
        f"feed ran {args.seconds:.0f} s (ingest exited {ingest_code}); {total:,} ticks published, "
        f"all stored {drained:.0f} s later"
        if check.ok
        else f"{total:,} ticks published"
    )
    print(
        f"sustained, from {args.warmup:.0f} s to {args.seconds:.0f} s: {window.ticks:,.0f} ticks "
        f"stored in {window.seconds:.1f} s -> {rate:,.0f} ticks/s end to end"
    )
    print(f"stored once each: {check.describe()}")
    fed = (published_end - published_warm) / window.seconds
    print(f"the feed published {fed:,.0f} ticks/s in that window (ingest's cost is per tick)")
    print("CPU a tick in that window (us), and the rate it allows on this machine's cores:")
    for name, us in sorted(per_tick.items(), key=lambda kv: -kv[1]):
        print(f"  {name:16} {us:7.1f}")
    bound = ceiling(per_tick, cores)
    print(f"  {'all':16} {sum(per_tick.values()):7.1f} -> at most {bound:,.0f} ticks/s on {cores}")
    print("the broker's threads, CPU seconds in that window:")
    spent = {k: v - broker_threads_warm.get(k, 0.0) for k, v in broker_threads.items()}
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {name:24} {seconds:6.1f}")
    print("memory, RSS sampled each second:")
    series = fold(memory, [], began, began + args.seconds, every_s=10.0)
    for line in summary(series):
        print(line)
    if folder := os.environ.get(RESULTS_DIR_VARIABLE):
        path = Path(folder) / "e2e_sustained_memory.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(series, path)
        print(f"  the peaks of each 10 s: {path}")
    if check.ok:
        figures: dict[str, float | None] = {"ticks_per_s": rate, "bound_per_s": bound}
        figures.update({f"cpu_us_per_tick:{k}": v for k, v in per_tick.items()})
        for column, name in enumerate(series.names):
            values = [p[column] for _, p, _ in series.rows if p[column] is not None]
            figures[f"rss_peak_mib:{name}"] = max(values, default=None)
        record("e2e_sustained", figures)
    return check.ok


def drain(database_url: str, like: str, total: int, most_s: float) -> float:
    """Seconds until the database holds `total` of the run's ticks (or `most_s` passed)."""
    began = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.monotonic() - began < most_s:
            count = conn.execute(
                "SELECT count(*) FROM ticks WHERE instrument LIKE %s", (like,)
            ).fetchone()[0]
            if count >= total:
                break
            time.sleep(2.0)
    return time.monotonic() - began


def stored_exactly_once(database_url: str, like: str, total: int) -> Stored:
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows, distinct, low, high = conn.execute(
            "SELECT count(*), count(DISTINCT ingest_seq), min(ingest_seq), max(ingest_seq) "
            "FROM ticks WHERE instrument LIKE %s",
            (like,),
        ).fetchone()
    return Stored(total, rows, distinct, low, high)


if __name__ == "__main__":
    raise SystemExit(main())

"""Throughput of one signals worker pinned to one core, on a pre-filled ticks topic.

N normalized ticks (20 instruments, quotes and trades, a random walk of realistic size) are
written to a fresh topic; then `python -m tickwire_signals` runs under `taskset -c 1` and the
benchmark reads its tick counter (/metrics) from the first tick applied to the N-th. --profile
runs the batch handler in-process (no Kafka, no faust) to show what the ticks themselves cost.
Usage: python benchmarks/signals_throughput.py [N] [--profile]  (KAFKA_BOOTSTRAP_SERVERS: reuse)"""

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
from pathlib import Path

from bench_results import record
from confluent_kafka import Producer
from proc_stats import cpu_seconds

from tickwire_core.clock import now_us
from tickwire_core.localstack._process import free_port, spawn
from tickwire_core.localstack.kafka import LocalKafka
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import TICKS, create_topics, tick_key
from tickwire_signals.domain.config import SignalsConfig
from tickwire_signals.domain.engine import SignalEngine
from tickwire_signals.handler import SignalsHandler, TickEvent
from tickwire_testing.ticks import quote, trade

INSTRUMENTS = 20
SPACING_US = 500  # 2,000 ticks per second of event time


def ticks(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    mids = [100.0 * (i + 1) for i in range(INSTRUMENTS)]
    start = now_us() - n * SPACING_US
    out = []
    for k in range(n):
        i = rng.randrange(INSTRUMENTS)
        mids[i] *= 1 + rng.gauss(0, 0.0002)
        mid, ts, name = mids[i], start + k * SPACING_US, f"B-{i:02d}"
        half = mid * 0.0001
        if rng.random() < 0.25:
            out.append(trade(name, ts, round(mid + half, 6), round(rng.lognormvariate(0, 1), 4)))
        else:
            out.append(quote(name, ts, round(mid - half, 6), round(mid + half, 6)))
    return out


def encoded(records: list[dict]) -> list[tuple[bytes, bytes]]:
    serde = AvroSerde()
    return [(tick_key(t["provider"], t["instrument"]), serde.encode("tick", t)) for t in records]


def applied(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
        text = r.read().decode()
    return sum(
        float(v) for v in re.findall(r"^tickwire_signals_ticks_total\{.*\} (\S+)$", text, re.M)
    )


def run_service(bootstrap: str, records: list[tuple[bytes, bytes]], work: Path) -> None:
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    create_topics(bootstrap, prefix=prefix)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    for key, value in records:
        while True:
            try:
                producer.produce(prefix + TICKS, key=key, value=value)
                break
            except BufferError:
                producer.poll(0.1)
    producer.flush(120)
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "TICKWIRE_TOPIC_PREFIX": prefix,
        "TICKWIRE_HEALTH_HOST": "127.0.0.1",
        "TICKWIRE_HEALTH_PORT": str(port),
        "TICKWIRE_LOG_LEVEL": "WARNING",
    }
    pin = (
        ["taskset", "-c", "1"]
        if shutil.which("taskset") and os.cpu_count() and os.cpu_count() > 1
        else []
    )
    log = work / "signals.log"
    proc = spawn([*pin, sys.executable, "-m", "tickwire_signals"], log, env=env)
    try:
        first = started_cpu = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            time.sleep(0.05)
            try:
                done = applied(port)
            except OSError:
                continue
            if first is None and done > 0:
                first, started_cpu, first_count = time.monotonic(), cpu_seconds(proc.pid), done
            if done >= len(records):
                wall, cpu = time.monotonic() - first, cpu_seconds(proc.pid) - started_cpu
                counted = done - first_count
                where = " pinned to core 1" if pin else ""
                print(f"one signals worker{where}: {len(records):,} ticks")
                print(f"  {counted / wall:,.0f} ticks/s over {wall:.2f} s after its first tick")
                print(f"  CPU {cpu:.2f} s in that time ({counted / cpu:,.0f} ticks per CPU second)")
                record(
                    "signals_throughput",
                    {
                        "ticks_per_s": counted / wall,
                        "cpu_us_per_tick:signals": 1e6 * cpu / counted,
                        "bound_per_s": counted / cpu,  # its core, all of it for the worker
                    },
                )
                return
        raise SystemExit(f"signals did not finish; log: {log}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def profile(records: list[tuple[bytes, bytes]], top: int) -> None:
    handler = SignalsHandler(SignalEngine(SignalsConfig()), AvroSerde(), lambda _k: None)
    events = [TickEvent(k, v, 0, i) for i, (k, v) in enumerate(records)]
    started = time.perf_counter()
    for i in range(0, len(events), 2000):
        handler(events[i : i + 2000])
    elapsed = time.perf_counter() - started
    print(f"in-process, no Kafka: {len(events) / elapsed:,.0f} ticks/s (decode + engine)")
    handler = SignalsHandler(SignalEngine(SignalsConfig()), AvroSerde(), lambda _k: None)
    prof = cProfile.Profile()
    prof.enable()
    for i in range(0, len(events), 2000):
        handler(events[i : i + 2000])
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=200_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    records = encoded(ticks(args.n))
    if args.profile:
        profile(records, args.top)
        return 0
    work = Path(tempfile.mkdtemp(prefix="tickwire-signals-bench-"))
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    kafka = None
    if not bootstrap:
        kafka = LocalKafka(work / "kafka")
        kafka.start()
        bootstrap = kafka.bootstrap_servers
    try:
        run_service(bootstrap, records, work)
    finally:
        if kafka is not None:
            kafka.stop()
    shutil.rmtree(work, ignore_errors=True)  # a failure keeps the broker's data and the log
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

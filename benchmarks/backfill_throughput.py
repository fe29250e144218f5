"""Throughput of a backfill: N vendor bars through `tickwire backfill` -> raw topic -> normalize ->
bars topic -> sink -> TimescaleDB, each its own process on the local stack; --profile: the command,
then normalize's handler, in-process under cProfile (backfill_profile.py).

The source is synthetic_history.py's Binance 1-minute candles (the rows ccxt would hand over, no
HTTP), split evenly over its instruments; the command is the real one with that source added, its
watermarks and run log in the database. Figures: the command's publish rate (first raw record to
its last run's end), normalize's rate (its bars counter), the sink's, and end to end (first raw
record to the N-th bar row visible in the bars table), with each process's CPU. Checks: exactly N
bars stored, nothing rejected, and a rerun of the same command publishes nothing.
Usage: python benchmarks/backfill_throughput.py [N] [--profile] (see --help)
(KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL, when set, name the broker and database to use)"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import backfill_profile
import psycopg
import synthetic_history
from bench_db import fresh_schema
from bench_stack import bench_stack
from confluent_kafka import Consumer, TopicPartition
from proc_stats import cpu_seconds, family_cpu

from tickwire_core.localstack._process import free_port, spawn, tail, wait_until
from tickwire_core.topics import RAW_TICKS, create_topics
from tickwire_ingest.domain.history.plan import parse_time

LAUNCHER = str(Path(__file__).with_name("synthetic_history.py"))
MINUTE_S = 60
TIMEOUT_S = 1800.0  # for all N bars to be stored
Servers = dict[str, int]  # the pids of the servers started here, by name


def counter(port: int, pattern: str) -> float:
    """The sum of a Prometheus counter's series matching `pattern` on a service's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
        return sum(map(float, re.findall(pattern, response.read().decode(), re.M)))


# prometheus_client writes the labels sorted by name.
NORMALIZE_BARS = (
    r'^tickwire_normalize_history_records_total\{kind="bar",provider="binance"\} (\S+)$'
)
NORMALIZE_REJECTED = r"^tickwire_normalize_rejected_total\{[^}]*\} (\S+)$"
SINK_BARS = r'^tickwire_sink_rows_written_total\{table="bars"\} (\S+)$'


def the_range(n: int, instruments: list[str]) -> tuple[str, str, int]:
    """--since and --until (whole minutes, closed by now) holding n bars over the instruments."""
    per, rest = divmod(n, len(instruments))
    if rest:
        raise SystemExit(f"N={n:,} is not a multiple of {len(instruments)} instruments")
    until = (int(time.time()) // MINUTE_S - 1) * MINUTE_S
    since = until - per * MINUTE_S

    def iso(seconds: int) -> str:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return iso(since), iso(until), per


def raw_topic(bootstrap: str, topic: str) -> tuple[int, int | None]:
    """Records on the topic, and the CreateTime (ms) of its earliest first record."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4().hex}"})
    try:
        total, starts = 0, []
        for p in consumer.list_topics(topic, timeout=10).topics[topic].partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            total += high - low
            if high > low:
                starts.append(TopicPartition(topic, p, low))
        consumer.assign(starts)
        firsts: dict[int, int] = {}
        deadline = time.monotonic() + 30
        while len(firsts) < len(starts) and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is not None and msg.error() is None:
                firsts.setdefault(msg.partition() or 0, msg.timestamp()[1])
        return total, min(firsts.values()) if firsts else None
    finally:
        consumer.close()


def start_service(name: str, env: dict[str, str], work: Path) -> tuple[Any, int]:
    """`python -m tickwire_<name>` in a consumer group of this run, once it answers /readyz."""
    port = free_port()
    env = {**os.environ, **env, "TICKWIRE_HEALTH_HOST": "127.0.0.1"}
    group = f"{env['TICKWIRE_TOPIC_PREFIX']}{name}"
    env.update(TICKWIRE_HEALTH_PORT=str(port), TICKWIRE_CONSUMER_GROUP=group)
    log = work / f"{name}.log"
    process = spawn([sys.executable, "-m", f"tickwire_{name}"], log, env=env)

    def ready() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return bool(response.status == 200)

    wait_until(ready, what=name, log_path=log, timeout=90, process=process)
    return process, port


def backfill_argv(args: argparse.Namespace, since: str, until: str, *extra: str) -> list[str]:
    names = ",".join(args.instruments)
    range_ = ["--since", since, "--until", until]
    return [
        "backfill",
        synthetic_history.NAME,
        "--instruments",
        names,
        "--interval",
        "1m",
        *range_,
        *extra,
    ]


def measure(
    args: argparse.Namespace, bootstrap: str, url: str, servers: Servers, work: Path
) -> int:
    n = args.n
    since, until, per = the_range(n, args.instruments)
    prefix = f"benchbf{uuid.uuid4().hex[:6]}."
    create_topics(bootstrap, prefix=prefix)
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "DATABASE_URL": url}
    env["TICKWIRE_TOPIC_PREFIX"] = prefix
    sink, sink_port = start_service("sink", env, work)  # consumers first, as the stack starts
    normalize, normalize_port = start_service("normalize", env, work)
    services = {"normalize": normalize.pid, "sink": sink.pid}
    before = {name: cpu_seconds(pid) for name, pid in services.items()}
    before.update({name: sum(family_cpu(pid).values()) for name, pid in servers.items()})
    cli_log = work / "backfill.out"
    cli_env = {**os.environ, **env}
    argv = [sys.executable, LAUNCHER, *backfill_argv(args, since, until, "--no-wait")]
    print(f"{n:,} bars: {len(args.instruments)} instruments x {per:,} minutes, {since} to {until}")
    start, end = parse_time(since, "--since"), parse_time(until, "--until")
    alone = backfill_profile.source_rate(args.instruments, start, end, min(n, 100_000))
    print(f"  the synthetic source alone: {alone:,.0f} rows/s (part of the command's work)")
    with cli_log.open("wb") as out:
        cli = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=cli_env)
    cli_usage: resource.struct_rusage | None = None
    cli_code = None
    seen: dict[str, tuple[float, float]] = {}  # first counted, N-th counted (time.time())
    stored_at = None
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while stored_at is None and time.monotonic() < deadline:
            time.sleep(0.1)
            if cli_code is None:
                pid, status, usage = os.wait4(cli.pid, os.WNOHANG)
                if pid:
                    cli_code, cli_usage = os.waitstatus_to_exitcode(status), usage
                    if cli_code:
                        print(f"FAILED: the backfill exited {cli_code}:\n{tail(cli_log)}")
                        return 1
            for name, port, pattern in (
                ("normalize", normalize_port, NORMALIZE_BARS),
                ("sink", sink_port, SINK_BARS),
            ):
                try:
                    value = counter(port, pattern)
                except OSError:  # busy for a moment: read it next time round
                    continue
                if value and name not in seen:
                    seen[name] = (time.time(), 0.0)
                if value >= n and seen[name][1] == 0.0:
                    seen[name] = (seen[name][0], time.time())
            if "sink" in seen and seen["sink"][1]:
                with psycopg.connect(url) as conn:
                    row = conn.execute("SELECT count(*) FROM bars").fetchone()
                if row and row[0] >= n:
                    stored_at = time.time()
        used = {name: cpu_seconds(pid) - before[name] for name, pid in services.items()}
        used.update(
            {name: sum(family_cpu(pid).values()) - before[name] for name, pid in servers.items()}
        )
        rejected = counter(normalize_port, NORMALIZE_REJECTED)
    finally:
        for process in (normalize, sink):  # normalize first: nothing new reaches the sink then
            process.send_signal(signal.SIGTERM)
            process.wait(60)
        if cli_code is None:
            _, status, cli_usage = os.wait4(cli.pid, 0)
            cli_code = os.waitstatus_to_exitcode(status)
    if stored_at is None or cli_usage is None or len(seen) < 2:
        print(f"FAILED: {n:,} bars not stored within {TIMEOUT_S:.0f} s; logs in {work}")
        return 1
    used["backfill command"] = cli_usage.ru_utime + cli_usage.ru_stime
    published, first_ms = raw_topic(bootstrap, prefix + RAW_TICKS)
    with psycopg.connect(url) as conn:
        bars, sources = conn.execute(
            "SELECT count(*), array_agg(DISTINCT source) FROM bars"
        ).fetchone()  # type: ignore[misc]
        dead = conn.execute("SELECT count(*) FROM rejects").fetchone()[0]  # type: ignore[index]
        runs = conn.execute(
            "SELECT count(*), sum(published), extract(epoch FROM max(finished_at)),"
            " bool_and(status = 'done') FROM backfill_runs"
        ).fetchone()
    assert first_ms is not None and runs is not None
    first = first_ms / 1000
    publish_s, e2e_s = float(runs[2]) - first, stored_at - first
    normalize_s = seen["normalize"][1] - seen["normalize"][0]
    sink_s = seen["sink"][1] - seen["sink"][0]
    print(f"  backfill command: {published:,} raw records in {publish_s:.2f} s (first record to")
    print(f"    its last run's end): {published / publish_s:,.0f} rows/s, {runs[0]} runs")
    print(f"  normalize: {normalize_s:.2f} s from its first bar to the N-th: ", end="")
    print(f"{n / normalize_s:,.0f} bars/s")
    print(f"  sink: {sink_s:.2f} s from its first bar row to the N-th: {n / sink_s:,.0f} rows/s")
    print(f"  end to end (first raw record -> N-th bar row in the table): {e2e_s:.2f} s,")
    print(f"    {n / e2e_s:,.0f} bars/s")
    print("CPU seconds from the command's start to the N-th row (the command's whole life):")
    for name, spent in sorted(used.items(), key=lambda kv: -kv[1]):
        print(f"  {name:18} {spent:6.1f} s")
    print(f"stored: {bars:,} bars (source {', '.join(sources or [])}), {dead:,} dead letters,")
    print(f"  {rejected:,.0f} rejected by normalize")
    # The same command again: every watermark is at --until, so nothing is published.
    rerun = subprocess.run(
        [sys.executable, LAUNCHER, *backfill_argv(args, since, until, "--wait-timeout", "60")],
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=300,
    )
    again, _ = raw_topic(bootstrap, prefix + RAW_TICKS)
    lines = [json.loads(line) for line in rerun.stdout.splitlines() if line.startswith("{")]
    told = sum(int(line.get("published", 0)) for line in lines)
    print(f"rerun: exit {rerun.returncode}, published {told} (raw topic {again - published:+,})")
    ok = bars == n and dead == 0 and rejected == 0 and published == n and bool(runs[3])
    ok = ok and rerun.returncode == 0 and told == 0 and again == published
    if not ok:
        print(
            f"FAILED: expected {n:,} bars, no rejects, a rerun publishing nothing; logs in {work}"
        )
        print(rerun.stdout, rerun.stderr)
    return 0 if ok else 1


def profile(args: argparse.Namespace, bootstrap: str, url: str) -> int:
    """The command in-process under cProfile (--no-wait, against the real broker and database),
    then normalize's handler on the same rows without Kafka."""
    since, until, _ = the_range(args.n, args.instruments)
    start, end = parse_time(since, "--since"), parse_time(until, "--until")
    alone = backfill_profile.source_rate(args.instruments, start, end, args.n)
    prefix = f"benchbfp{uuid.uuid4().hex[:6]}."
    create_topics(bootstrap, prefix=prefix)
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "DATABASE_URL": url}
    env["TICKWIRE_TOPIC_PREFIX"] = prefix
    argv = backfill_argv(args, since, until, "--no-wait")
    started = time.perf_counter()
    code = backfill_profile.command(argv, env, args.sort, args.top)
    seconds = time.perf_counter() - started
    published, _ = raw_topic(bootstrap, prefix + RAW_TICKS)
    print(f"{published:,} rows published in {seconds:.2f} s under cProfile: ", end="")
    print(f"{published / seconds:,.0f} rows/s; the source alone: {alone:,.0f} rows/s")
    records = backfill_profile.raw_records(args.instruments, start, end)
    code = code or backfill_profile.normalize(records, args.sort, args.top)
    return 0 if code == 0 and published == args.n else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=1_000_000, help="vendor bars")
    parser.add_argument(
        "--instruments", type=lambda s: s.split(","), default=list(synthetic_history.MARKETS)
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the command in-process")
    parser.add_argument("--top", type=int, default=30, help="functions the profile lists")
    parser.add_argument("--sort", default="tottime", help="the profile's order")
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Linux {platform.release()},")
    print(
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f} at the start,"
    )
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    work = Path(tempfile.mkdtemp(prefix="tickwire-bench-backfill-"))
    code = 1
    try:
        with (
            bench_stack(work) as stack,
            fresh_schema(stack.database_url, "bench_backfill") as target,
        ):
            assert stack.bootstrap is not None
            if args.profile:
                code = profile(args, stack.bootstrap, target)
            else:
                code = measure(args, stack.bootstrap, target, stack.servers, work)
            print(f"load average {os.getloadavg()[0]:.2f} at the end")
    finally:
        if code == 0:
            shutil.rmtree(work, ignore_errors=True)  # the stack's data; a failure keeps its logs
    return code


if __name__ == "__main__":
    raise SystemExit(main())

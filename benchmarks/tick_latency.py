"""Tick -> queryable latency of the whole pipeline (ingest, normalize, signals, sink, api, each its
own process) under a steady simulator load, and ingest -> anomaly latency on the anomalies topic.

For each rate (1,000 and 5,000 ticks/s by default) a fresh run (its own topics, consumer groups
and instruments) has ingest's simulator send rate x duration ticks at that rate, and three
readers in this process sample it:
- tick -> queryable, one sample per tick: a reader polls PostgreSQL every --poll-ms for the run's
  ticks by ingest_seq (gapless per ingest instance) and keeps, for each tick, the moment the first
  poll that returned it was sent, minus its received_ts (ingest's clock, on this machine).
  PostgreSQL is read rather than the REST API because the API holds no cache: a row is visible to
  it the moment the sink's transaction commits, and polling /v1/ticks/latest fast enough to see
  every tick at 5,000/s would cost the shared cores more than the pipeline's API does. A sample is
  late by at most one poll interval plus the query's time, never early by more than the query's
  start-up (under a millisecond).
- the API's view, as a check: every 100 ms /v1/ticks/latest?limit=1 of the next instrument; the
  sample is the request's send time minus the received_ts of the newest tick it returns (the age
  of the newest tick a user sees; an upper bound of its own latency, lower than older ticks'
  of the same batch).
- ingest -> anomaly, one sample per anomaly: a read_committed consumer of the anomalies topic takes
  the moment each record reaches it minus the record's ts, the judged tick's event time, which the
  simulator stamps from ingest's clock microseconds before received_ts.
With --stages, readers of the raw and normalized topics (benchmarks/stage_lag.py) add where the
time goes: a table of each stage's probe (broker append times, read_committed arrival) since
received_ts, and the anomaly's append and arrival since its ts.
The first --warmup seconds of ticks (by received_ts) are left out of the percentiles. After the
load, the run waits while ticks keep arriving (until none has for --drain seconds), then checks
that every tick is stored once: missing and duplicated ingest sequences.

Usage: python benchmarks/tick_latency.py [--rates 1000,5000] [--duration 60] [--warmup 5]
       [--drain 30] [--poll-ms 20] [--stages] [--set SERVICE:VARIABLE=VALUE ...]
(KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL, when set, name the broker and database to use)"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from bench_results import latency_summary, record
from bench_stack import bench_stack
from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME
from run_costs import batch_figures, cost_lines, cpu_now, service_settings, start_counting_cpu
from stage_lag import TopicLag, follow, leading_reader, read_topic, stage_lines, use_append_time
from visibility import FirstSight

from tickwire_core.clock import now_us
from tickwire_core.localstack.pipeline import Pipeline
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import ANOMALIES, RAW_TICKS, TICKS, create_topics
from tickwire_sink.adapters.migrations import migrate

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_STORED = """
SELECT ingest_seq, (extract(epoch FROM received_ts) * 1000000)::bigint FROM ticks
WHERE instrument = ANY(%(instruments)s) AND exchange_ts >= %(since)s AND ingest_seq >= %(low)s
"""
# The simulator stamps exchange_ts just before received_ts from the same clock: rows from the
# lowest unseen tick on lie after the receive time of the one before it, less this margin.
_SINCE_MARGIN_US = 100_000


def micros(value: datetime) -> int:
    return (value - _EPOCH) // _US


def poll_stored(
    url: str,
    instruments: list[str],
    sight: FirstSight,
    start_us: int,
    poll_s: float,
    stop: threading.Event,
    spent: list[float],
) -> None:
    """Poll until stopped; `spent` gets each query's seconds (the samples' resolution)."""
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            since_us = (sight.low_received_us or start_us) - _SINCE_MARGIN_US
            since = _EPOCH + since_us * _US
            sent_us = now_us()
            params = {"instruments": instruments, "since": since, "low": sight.low}
            sight.observe(conn.execute(_STORED, params).fetchall(), sent_us)
            spent.append((now_us() - sent_us) / 1e6)
            stop.wait(poll_s)


def read_anomalies(
    bootstrap: str, topic: str, samples: list[tuple[int, int, int]], stop: threading.Event
) -> None:
    """Samples (ts_us, arrival - ts, broker append - ts, or -1 where the topic has CreateTime)."""
    serde = AvroSerde()
    for message, arrived_us in follow(bootstrap, topic, stop):
        ts = serde.decode("anomaly", message.value())["ts"]
        ts_us = micros(ts) if isinstance(ts, datetime) else int(ts)
        kind, stamp_ms = message.timestamp()
        appended = stamp_ms * 1000 - ts_us if kind == TIMESTAMP_LOG_APPEND_TIME else -1
        samples.append((ts_us, arrived_us - ts_us, appended))


def probe_api(
    base_url: str, instruments: list[str], samples: list[tuple[int, int]], stop: threading.Event
) -> None:
    with httpx.Client(base_url=base_url, timeout=5.0) as client:
        turn = 0
        while not stop.wait(0.1):
            instrument = instruments[turn % len(instruments)]
            turn += 1
            sent_us = now_us()
            reply = client.get("/v1/ticks/latest", params={"instrument": instrument, "limit": 1})
            ticks = reply.raise_for_status().json()["ticks"]
            if ticks:
                received_us = micros(datetime.fromisoformat(ticks[0]["received_ts"]))
                samples.append((received_us, sent_us - received_us))


def stored_counts(url: str, instruments: list[str]) -> tuple[int, int]:
    """Rows stored and distinct ingest sequences among them."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT ingest_seq) FROM ticks WHERE instrument = ANY(%s)",
            (instruments,),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def show(what: str, samples_ms: list[float]) -> dict[str, float]:
    if not samples_ms:
        print(f"  {what}: no samples")
        return {}
    s = latency_summary(samples_ms)
    print(
        f"  {what}: p50 {s['p50']:.1f} ms, p99 {s['p99']:.1f} ms, max {s['max']:.1f} ms "
        f"({s['count']:,} samples)"
    )
    return s


def run_rate(
    bootstrap: str,
    url: str,
    rate: int,
    args: argparse.Namespace,
    work: Path,
    servers: dict[str, int],
) -> dict[str, float]:
    run_id = uuid.uuid4().hex[:6]
    prefix = f"latency{run_id}."
    instruments = [f"L{run_id}-{i}" for i in range(4)]
    count = round(rate * args.duration)
    create_topics(bootstrap, prefix=prefix)
    if args.stages:
        use_append_time(bootstrap, [prefix + RAW_TICKS, prefix + TICKS, prefix + ANOMALIES])
    groups = {
        name: {"TICKWIRE_CONSUMER_GROUP": f"{prefix}{name}"}
        for name in ("normalize", "signals", "sink")
    }
    groups["signals"]["TICKWIRE_DATA_DIR"] = str(work / f"signals-{run_id}")
    for service, variables in args.set.items():  # settings under trial, over the defaults
        groups.setdefault(service, {}).update(variables)
    pipeline = Pipeline(
        work / f"services-{run_id}",
        bootstrap,
        url,
        topic_prefix=prefix,
        service_env={
            **groups,
            "ingest": {
                **groups.get("ingest", {}),
                "TICKWIRE_SIM_COUNT": str(count),
                "TICKWIRE_SIM_RATE": str(rate),
                "TICKWIRE_SIM_FAULTS": "false",
                "TICKWIRE_SIM_INSTRUMENTS": ",".join(
                    f"{name}:{100 * (i + 1)}" for i, name in enumerate(instruments)
                ),
            },
        },
    )
    sight, anomalies, ages = FirstSight(), list[tuple[int, int, int]](), list[tuple[int, int]]()
    raw_lag, ticks_lag = TopicLag(), TopicLag()
    spent: list[float] = []
    stop = threading.Event()
    readers = [
        threading.Thread(
            target=poll_stored,
            args=(url, instruments, sight, now_us(), args.poll_ms / 1000, stop, spent),
        ),
        threading.Thread(
            target=read_anomalies, args=(bootstrap, prefix + ANOMALIES, anomalies, stop)
        ),
    ]
    if args.stages:
        serde = AvroSerde()
        readers += [
            threading.Thread(
                target=read_topic,
                args=(bootstrap, prefix + topic, leading_reader(serde, schema, "received_ts")),
                kwargs={"time_field": "received_ts", "lag": lag, "stop": stop},
            )
            for topic, schema, lag in ((RAW_TICKS, "raw_tick", raw_lag), (TICKS, "tick", ticks_lag))
        ]
    for reader in readers:
        reader.start()
    cpu_used: dict[str, float] = {}
    batches: dict[str, tuple[float, float, float]] = {}
    try:
        cpu_from = start_counting_cpu(pipeline, servers)
        api = threading.Thread(
            target=probe_api, args=(pipeline.urls()["api"], instruments, ages, stop)
        )
        api.start()
        readers.append(api)
        # Past the load's end, wait while ticks keep arriving: a pipeline that fell behind is
        # given the time to catch up, so a tick not stored is one that stopped coming.
        load_ends = time.monotonic() + args.duration
        last_seen, last_progress = -1, time.monotonic()
        while sight.seen < count:
            if sight.seen != last_seen:
                last_seen, last_progress = sight.seen, time.monotonic()
            elif time.monotonic() > max(load_ends, last_progress) + args.drain:
                break
            time.sleep(0.5)
        cpu_used = {k: v - cpu_from[k] for k, v in cpu_now(pipeline, servers).items()}
        batches = batch_figures(pipeline.urls(), ("normalize", "sink")) if args.stages else {}
    finally:
        stop.set()
        for reader in readers:
            reader.join()
        pipeline.stop()
    stored, distinct = stored_counts(url, instruments)
    received = [r for r, _ in sight.latencies_us]
    first = min(received, default=0)
    span_s = (max(received, default=0) - first) / 1e6
    start = first + round(args.warmup * 1e6)
    print(
        f"\n{rate:,} ticks/s for {args.duration:g} s ({count:,} ticks; the first "
        f"{args.warmup:g} s left out)"
    )
    if span_s > 0:
        print(
            f"  the ticks seen were received over {span_s:.1f} s "
            f"-> {len(received) / span_s:,.0f} ticks/s"
        )
    if spent:
        print(
            f"  stored-ticks reader: {len(spent):,} polls, query p50 "
            f"{1000 * latency_summary(spent)['p50']:.1f} ms, max {1000 * max(spent):.1f} ms"
        )
    print(
        f"  stored {stored:,} of {count:,}: {count - distinct:,} missing"
        f"{f' (none arrived for {args.drain:g} s)' if distinct < count else ''}, "
        f"{stored - distinct:,} duplicated"
    )
    figures: dict[str, float] = {
        f"missing@{rate}": count - distinct,
        f"duplicated@{rate}": stored - distinct,
    }
    views = (
        (
            "queryable",
            f"tick -> queryable (PostgreSQL, every {args.poll_ms} ms)",
            sight.after_warmup(start),
        ),
        (
            "api_age",
            "newest tick's age at the API (/v1/ticks/latest)",
            [lat / 1000 for r, lat in ages if r >= start],
        ),
        (
            "anomaly",
            "ingest -> anomaly on the anomalies topic",
            [lat / 1000 for ts, lat, _ in anomalies if ts >= start],
        ),
    )
    for key, what, samples in views:
        for name, value in show(what, samples).items():
            if name != "count":
                figures[f"{key}_{name}_ms@{rate}"] = value
    print("\n".join(cost_lines(cpu_used, count, batches)))
    if args.stages:
        print("\n".join(stage_lines(raw_lag, ticks_lag, views[0][2], anomalies, start)))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="1000,5000", help="ticks/s, comma separated")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load a rate")
    parser.add_argument("--warmup", type=float, default=5.0, help="first seconds left out")
    parser.add_argument("--drain", type=float, default=30.0, help="wait for progress, seconds")
    parser.add_argument("--poll-ms", type=int, default=20, help="the stored-ticks reader's pause")
    parser.add_argument(
        "--stages", action="store_true", help="also say where the time goes, stage by stage"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SERVICE:VARIABLE=VALUE",
        help="an environment variable of one service, e.g. sink:TICKWIRE_BATCH_TIMEOUT_MS=50",
    )
    args = parser.parse_args()
    args.set = service_settings(args.set)
    work = Path(tempfile.mkdtemp(prefix="tickwire-latency-"))
    with bench_stack(work) as stack:
        assert stack.bootstrap is not None
        with psycopg.connect(stack.database_url) as conn:
            migrate(conn)  # before the readers start: the sink would make the tables too
        for rate in (int(r) for r in args.rates.split(",")):
            figures = run_rate(stack.bootstrap, stack.database_url, rate, args, work, stack.servers)
            record("tick_latency", figures)
    shutil.rmtree(work, ignore_errors=True)  # the stack's data; a failure keeps it and the logs
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

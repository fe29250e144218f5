"""Throughput of one normalize process on a pre-filled raw topic, and (--profile) what bounds it:
the normalize handler in-process, timed and under cProfile, over the same records without Kafka.

N primary raw records (simulator quotes and trades, Binance bookTicker/aggTrade and Deribit ticker
frames shaped like tests/fixtures/venues, times near now) plus a replica's copy of a fraction of
them: every primary becomes one tick, every copy is dropped by dedup. The service run measures from
the first tick normalize produces to the N-th one a read-committed consumer sees.
Usage: python benchmarks/normalize_throughput.py [N] [--at-least-once | --profile] (see --help)
(KAFKA_BOOTSTRAP_SERVERS, when set, names the broker to use)"""

from __future__ import annotations

import argparse
import copy
import cProfile
import heapq
import json
import os
import platform
import pstats
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench_results import record
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from normalize_stages import Encoded, stage_timer
from proc_stats import cpu_seconds, peak_rss_mib

from tickwire_core.clock import now_us
from tickwire_core.localstack._process import free_port, spawn, tail
from tickwire_core.localstack.kafka import LocalKafka
from tickwire_core.publisher import Publisher
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import DEAD_LETTER, RAW_TICKS, TICKS, create_topics, tick_key
from tickwire_ingest.domain.raw import Envelope
from tickwire_ingest.domain.simulator import SimConfig, Simulator, parse_instruments
from tickwire_normalize.settings import NormalizeSettings
from tickwire_testing.fixtures import venue_fixture

SIMULATED = "SIM-BTC-USD:65000,SIM-ETH-USD:3500:0.05,SIM-SOL-USD:150,SIM-EUR-USD:1.08:0.00001"
BINANCE = {"BTCUSDT": 65_000.0, "ETHUSDT": 3_500.0, "BNBBTC": 0.0091}
DERIBIT = {"BTC-PERPETUAL": 65_000.0, "ETH-PERPETUAL": 3_500.0}
SHARES = {"simulator": 0.7, "binance": 0.2, "deribit": 0.1}
RECEIPT_SPACING_US = 50  # primaries arrive at 20,000 a second: 200,000 span 10 s of receipt time


class VenueFrames:
    """Binance and Deribit frames as their connectors receive them, made from the fixtures'
    examples with moving prices; ids and open interest only grow, so no two updates are equal."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.mids, self.next_id = rng, {**BINANCE, **DERIBIT}, 400_900_217
        self.book, self.trade = venue_fixture("binance")["messages"]
        self.ticker = venue_fixture("deribit")["messages"][0]
        self.open_interest = dict.fromkeys(DERIBIT, 502_097_590)

    def binance(self, exchange_ms: int) -> tuple[str, str, bytes]:
        rng, symbol = self.rng, self.rng.choice(list(BINANCE))
        mid, half = self._step(symbol), self.mids[symbol] * rng.uniform(0.00005, 0.0002)
        self.next_id += 1
        if rng.random() < 0.3:
            kind, event = "aggTrade", {**self.trade, "E": exchange_ms, "T": exchange_ms}
            event.update(s=symbol, a=self.next_id, p=f"{mid:.8f}", m=rng.random() < 0.5)
            event.update(q=f"{rng.lognormvariate(-1, 1):.5f}", f=self.next_id, l=self.next_id)
        else:
            kind, event = "bookTicker", {**self.book, "u": self.next_id, "s": symbol}
            event.update(b=f"{mid - half:.8f}", B=f"{rng.lognormvariate(0, 1):.5f}")
            event.update(a=f"{mid + half:.8f}", A=f"{rng.lognormvariate(0, 1):.5f}")
        return kind, symbol, _json({"stream": f"{symbol.lower()}@{kind}", "data": event})

    def deribit(self, exchange_ms: int) -> tuple[str, str, bytes]:
        rng, name = self.rng, self.rng.choice(list(DERIBIT))
        frame = copy.deepcopy(self.ticker)
        frame["params"]["channel"] = f"ticker.{name}.100ms"
        data, stats = frame["params"]["data"], frame["params"]["data"]["stats"]
        scale = self._step(name) / data["mark_price"]
        data.update({k: round(v * scale, 2) for k, v in data.items() if k.endswith("_price")})
        stats.update(high=round(stats["high"] * scale, 2), low=round(stats["low"] * scale, 2))
        self.open_interest[name] += rng.randint(1, 5_000)
        data.update(
            instrument_name=name, timestamp=exchange_ms, open_interest=self.open_interest[name]
        )
        data.update(
            best_bid_amount=rng.randint(1, 500) * 10, best_ask_amount=rng.randint(1, 500) * 10
        )
        return "ticker", name, _json(frame)

    def _step(self, name: str) -> float:
        self.mids[name] *= 1 + self.rng.gauss(0.0, 0.0002)
        return self.mids[name]


def _json(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def raw_records(n: int, replica_fraction: float, seed: int) -> list[dict[str, Any]]:
    """n primary records and the replica's copies, each instance numbering its own, by receipt."""
    rng, frames = random.Random(seed), VenueFrames(random.Random(seed + 1))
    simulator = Simulator(SimConfig(parse_instruments(SIMULATED), seed=seed))
    primary, replica = Envelope("simulator", "primary"), Envelope("simulator", "replica")
    start, firsts, copies = now_us(), [], []
    for i in range(n):
        received = start + i * RECEIPT_SPACING_US
        exchange = received - rng.randint(200, 5_000)  # the venue's time, a little earlier
        provider = rng.choices(list(SHARES), weights=list(SHARES.values()))[0]
        if provider == "binance":
            feed, instrument, payload = frames.binance(exchange // 1000)
        elif provider == "deribit":
            feed, instrument, payload = frames.deribit(exchange // 1000)
        else:
            sim = simulator.next_message(exchange)
            feed, instrument, payload = sim.feed, sim.instrument, sim.payload
        firsts.append(primary.wrap(feed, instrument, payload, received, provider=provider))
        if rng.random() < replica_fraction:  # the replica's connection lags a little
            copies.append((received + rng.randint(100, 3_000), feed, instrument, payload, provider))
    again = [replica.wrap(f, name, p, ts, provider=v) for ts, f, name, p, v in sorted(copies)]
    return list(heapq.merge(firsts, again, key=lambda record: record["received_ts"]))


class Reader:
    """Read-committed reader of the output topics: records per topic, the earliest CreateTime, and
    the partitions read to their end (EOF since their last record)."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        config = {"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4().hex}"}
        config.update({"auto.offset.reset": "earliest", "isolation.level": "read_committed"})
        self.consumer = Consumer({**config, "enable.partition.eof": True})
        self.consumer.subscribe(topics)
        self.counts: Counter[str] = Counter()
        self.first_ms: int | None = None
        self.at_end: set[tuple[str, int]] = set()
        # Joined before normalize starts, so its first output is seen (and its CPU read) at once.
        deadline = time.monotonic() + 30
        while not self.consumer.assignment():
            if time.monotonic() > deadline:
                raise TimeoutError("the reader was assigned no partition within 30 s")
            self.poll()

    def poll(self) -> None:
        for msg in self.consumer.consume(10_000, 0.05):
            where, error = (msg.topic() or "", msg.partition() or 0), msg.error()
            if error is not None and error.code() != KafkaError._PARTITION_EOF:
                raise KafkaException(error)
            if error is not None:
                self.at_end.add(where)
                continue
            self.at_end.discard(where)
            self.counts[where[0]] += 1
            created = msg.timestamp()[1]
            self.first_ms = created if self.first_ms is None else min(self.first_ms, created)

    def read_to_end(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assigned = {(tp.topic, tp.partition) for tp in self.consumer.assignment()}
            if assigned and assigned <= self.at_end:
                return
            self.poll()
        raise TimeoutError("the output topics were not read to their end")


def fill(bootstrap: str, topic: str, records: Encoded) -> None:
    # As ingest produces (lz4 batches), so normalize decompresses what it would in production;
    # log_level 3: a fresh broker's "coordinator load in progress" retries are no news.
    config: dict[str, Any] = {"bootstrap.servers": bootstrap, "log_level": 3, "linger.ms": 5}
    config.update({"enable.idempotence": True, "compression.type": "lz4"})
    publisher = Publisher(Producer(config), AvroSerde())
    for key, value in records:
        publisher.send_bytes(topic, key, value)
    publisher.flush(timeout=120)


def run_service(records: Encoded, args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="tickwire-bench-normalize-"))
    code = measure(work, records, args)
    if code == 0:
        shutil.rmtree(work, ignore_errors=True)  # the broker's data; a failed run keeps its logs
    return code


def measure(work: Path, records: Encoded, args: argparse.Namespace) -> int:
    bootstrap, kafka, n = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), None, args.n
    try:
        if not bootstrap:
            kafka = LocalKafka(work / "kafka")
            kafka.start()
            bootstrap = kafka.bootstrap_servers
        prefix = f"benchnorm{uuid.uuid4().hex[:6]}."
        create_topics(bootstrap, prefix=prefix)
        fill(bootstrap, prefix + RAW_TICKS, records)
        ticks_topic, dead_topic = prefix + TICKS, prefix + DEAD_LETTER
        reader = Reader(bootstrap, [ticks_topic, dead_topic])
        env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "TICKWIRE_TOPIC_PREFIX": prefix}
        env.update(TICKWIRE_CONSUMER_GROUP=f"{prefix}normalize", TICKWIRE_INSTANCE_ID="bench")
        env.update(TICKWIRE_EXACTLY_ONCE=str(not args.at_least_once).lower())
        env.update(TICKWIRE_HEALTH_HOST="127.0.0.1", TICKWIRE_HEALTH_PORT=str(free_port()))
        log, spawned = work / "normalize.log", time.time()
        process = spawn(
            [sys.executable, "-m", "tickwire_normalize"], log, env={**os.environ, **env}
        )
        broker = kafka.running_pid if kafka is not None else None
        try:
            at_first: tuple[float, float] | None = None  # CPU seconds of normalize, the broker
            deadline = time.monotonic() + args.timeout
            while reader.counts[ticks_topic] < n and process.poll() is None:
                if time.monotonic() > deadline:
                    break
                reader.poll()
                if at_first is None and reader.first_ms is not None:
                    at_first = cpu_seconds(process.pid), cpu_seconds(broker)
            done, out = time.time(), reader.counts[ticks_topic]
            if out < n or at_first is None or reader.first_ms is None:
                print(f"{out:,} of {n:,} ticks within {args.timeout:.0f} s; {log}:\n{tail(log)}")
                return 1
            cpu, peak = cpu_seconds(process.pid), peak_rss_mib(process.pid)
            broker_cpu = cpu_seconds(broker) - at_first[1]
        finally:
            process.send_signal(signal.SIGTERM)  # it ends its batch, then leaves the group
            process.wait(60)
        reader.read_to_end(timeout=30)  # whatever it produced beyond the N-th tick counts too
        reader.consumer.close()
        seconds, first = done - reader.first_ms / 1000, reader.first_ms / 1000
        mode = "at-least-once" if args.at_least_once else "exactly-once"
        batch = NormalizeSettings.model_fields["batch_size"].default
        print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        print(f"one normalize process, {mode}, batch size {batch}; {first - spawned:.1f} s from")
        print(f"its start to its first output, then {seconds:.2f} s to the N-th tick:")
        print(f"  in:  {len(records):,} raw records, {len(records) / seconds:,.0f} records/s")
        print(f"  out: {n:,} ticks, {n / seconds:,.0f} ticks/s")
        print(f"  CPU: {cpu:.1f} s in all, {cpu - at_first[0]:.1f} s after its first output")
        if broker is not None:
            print(f"  (the Kafka broker's CPU after that first output: {broker_cpu:.1f} s)")
        print(f"  peak RSS (VmHWM): {peak:.0f} MiB")
        ticks, dead = reader.counts[ticks_topic], reader.counts[dead_topic]
        print(f"  read back after it stopped: {ticks:,} ticks, {dead:,} dead letters")
        if ticks == n and not dead:
            own_us = 1e6 * (cpu - at_first[0]) / n
            record(
                "normalize_throughput",
                {
                    "ticks_per_s": n / seconds,
                    "cpu_us_per_tick:normalize": own_us,
                    "cpu_us_per_tick:the Kafka broker": 1e6 * broker_cpu / n if broker else None,
                    "bound_per_s": 1e6 / own_us,  # one core at the service's own cost
                },
            )
        if ticks != n or dead:
            print(f"FAILED: expected exactly {n:,} ticks and no dead letters (log: {log})")
        return 0 if ticks == n and dead == 0 else 1
    finally:
        if kafka is not None:
            kafka.stop()


def profile(records: Encoded, n: int, top: int) -> int:
    """The service's work per batch without Kafka: Avro decode, the handler, Avro encode."""
    run = stage_timer(records)
    load_before = os.getloadavg()[0]
    ticks, spent = run()
    wall, cpu = sum(spent.wall), sum(spent.cpu)
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    print(f"in-process, no Kafka: {len(records):,} raw records, {ticks:,} ticks ({load}):")
    print(f"  CPU  {cpu:6.2f} s, {1e6 * cpu / ticks:5.1f} us a tick, {ticks / cpu:,.0f} ticks/s")
    print(f"  wall {wall:6.2f} s, {1e6 * wall / ticks:5.1f} us a tick, {ticks / wall:,.0f} ticks/s")
    print("where the CPU time goes (no profiler):")
    stages = ("Avro decode (raw_tick)", "handler (JSON, mapping, dedup)", "Avro encode (tick)")
    for label, seconds in zip(stages, spent.cpu, strict=True):
        print(f"  {label:31} {seconds:6.2f} s  {1e6 * seconds / ticks:5.1f} us a tick")
    print("Kafka consume, produce and transactions are not here: compare with the service run.")
    if top > 0:
        profiler = cProfile.Profile()
        profiler.runcall(run)
        pstats.Stats(profiler).strip_dirs().sort_stats("cumulative").print_stats(top)
    return 0 if ticks == n else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=200_000, help="primary raw records")
    parser.add_argument("--replica-fraction", type=float, default=0.1, help="copied by a replica")
    parser.add_argument("--profile", action="store_true", help="cProfile in-process, no Kafka")
    parser.add_argument("--top", type=int, default=25, help="cProfile lines (0: none)")
    parser.add_argument("--at-least-once", action="store_true", help="no Kafka transactions")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for N")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    serde = AvroSerde()
    records = [
        (tick_key(r["provider"], r["instrument"]), serde.encode("raw_tick", r))
        for r in raw_records(args.n, args.replica_fraction, args.seed)
    ]
    return profile(records, args.n, args.top) if args.profile else run_service(records, args)


if __name__ == "__main__":
    raise SystemExit(main())

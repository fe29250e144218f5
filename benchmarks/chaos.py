"""The chaos run: the whole pipeline on a broker and database of its own under a steady simulator
load (primary and replica), with a seeded schedule of faults and hostile raw records; then a table.

Faults (chaos_schedule): kill -9 of every service several times, each restarted by the local run's
supervisor after a random delay; kill -9 of the broker; PostgreSQL stopped for a stretch; SIGSTOP
of a consumer past its session timeout; one of two normalize instances slowed; a burst of 10x
the rate (chaos_burst). Hostile records (chaos_hostile) go onto the raw topic throughout. When
the load ends and the pipeline has settled, the raw topic is read back to its end
and put through normalize's handler in-process (chaos_reference): every tick it makes must be in
the database exactly once (by the natural key: venue sequence and exchange time), nothing else;
every hostile record must be a dead letter with a reason. A failed check names what broke it and
keeps the run's folder (logs, data, faults.jsonl); a passed run removes it.

Usage: python benchmarks/chaos.py [--short] [--seed 7] [--duration S] [--rate N] [--hostile N]
       python benchmarks/chaos.py --soak [--duration S] [--faults]"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from chaos_burst import BurstVenue
from chaos_faults import FaultRunner
from chaos_hostile import INSTANCE, hostile_records
from chaos_quality import check_quality
from chaos_reference import Reference, build_reference
from chaos_report import Gathered, report
from chaos_schedule import SLOW_CONSUMER, Plan, schedule
from chaos_signals import gather_outputs
from chaos_soak import fold, plot, summary, write_csv
from chaos_watch import HostileFeed, Watch

from tickwire_core.clock import now_us
from tickwire_core.localstack._process import REPO_ROOT, free_port, spawn
from tickwire_core.localstack.kafka import LocalKafka
from tickwire_core.localstack.liveness import LivenessProbe
from tickwire_core.localstack.pipeline import Pipeline
from tickwire_core.localstack.postgres import LocalPostgres
from tickwire_core.localstack.restarts import RestartPolicy
from tickwire_core.localstack.supervisor import Supervisor
from tickwire_core.topics import RAW_TICKS
from tickwire_sink.adapters.migrations import migrate

# Several venues' shapes: prices from cents to tens of thousands, tick sizes to match.
INSTRUMENTS = (
    "CHAOS-BTC-USD:65000:0.5,CHAOS-ETH-USD:3500:0.05,CHAOS-SOL-USD:150:0.01,"
    "CHAOS-EUR-USD:1.08:0.00001,CHAOS-AAPL:190:0.01,CHAOS-PENNY:0.25:0.0001"
)
# Unplanned exits (a service that gives up while the broker or database is away) are restarted
# too, quickly and without ever being declared crash-looping: the run is about recovering.
POLICY = RestartPolicy(backoff_s=1.0, backoff_max_s=5.0, crash_loop_exits=1_000_000)
# The pipeline has settled when it stored what the reference expects, or stored nothing new for
# this long: a broker restart can hold everything up for a minute on a busy machine.
SETTLE_S = 90.0
OUTPUTS_QUIET_S = 10.0  # signals' bars and anomalies, once every tick is stored
SETTLE_MAX_S = 1800.0  # a long run at 5,000 ticks/s can leave a backlog of minutes


def pipeline_for(work: Path, broker: LocalKafka, url: str, args: argparse.Namespace) -> Pipeline:
    feed = {
        "TICKWIRE_SIM_RATE": str(args.rate),
        "TICKWIRE_SIM_SEED": str(args.seed),
        "TICKWIRE_SIM_INSTRUMENTS": INSTRUMENTS,
    }
    # Each instance keeps its venue's position: a killed ingest comes back as a reconnect, level
    # with the other, instead of numbering the venue's updates from 1 again.
    return Pipeline(
        work / "services",
        broker.bootstrap_servers,
        url,
        replica=True,
        service_env={
            "ingest": {**feed, "TICKWIRE_SIM_STATE_PATH": str(work / "ingest.venue")},
            "ingest-replica": {**feed, "TICKWIRE_SIM_STATE_PATH": str(work / "replica.venue")},
            "signals": {"TICKWIRE_DATA_DIR": str(work / "signals")},
        },
    )


class SecondNormalize:
    """A second normalize in normalize's group, so each owns half the raw topic's partitions and
    one can be slowed alone; started again by `keep()` when it exits. Its instance id gives it a
    transactional id of its own."""

    def __init__(self, pipeline: Pipeline) -> None:
        first = pipeline.services["normalize"]
        self.env = {
            **first.env,
            "TICKWIRE_HEALTH_PORT": str(free_port()),
            "TICKWIRE_INSTANCE_ID": f"local-{SLOW_CONSUMER}",
        }
        self.log = first.log_path.with_name(f"{SLOW_CONSUMER}.log")
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.liveness = LivenessProbe()

    def keep(self) -> None:
        """Started again when it exits, and killed first when its loop is stuck (the probe the
        supervisor gives the pipeline's own services)."""
        live_url = f"http://127.0.0.1:{self.env['TICKWIRE_HEALTH_PORT']}/livez"
        if self.process is not None and self.liveness.kill_if_stuck(
            SLOW_CONSUMER, live_url, self.process, time.monotonic()
        ):
            logging.error("%s answered /livez with 503: killed to restart it", SLOW_CONSUMER)
        if self.process is None or self.process.poll() is not None:
            argv = [sys.executable, "-m", "tickwire_normalize"]
            self.process = spawn(argv, self.log, env=self.env)
            self.starts += 1

    def pid(self) -> int | None:
        running = self.process is not None and self.process.poll() is None
        return self.process.pid if running and self.process is not None else None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # were it stopped, SIGTERM would wait
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def stored(url: str, raw_topic: str) -> tuple[int, int, int]:
    """Ticks, normalize's dead letters of the raw topic, and bars + anomalies, in the database."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM ticks), (SELECT count(*) FROM rejects "
            "WHERE service = 'normalize' AND source_topic = %s), "
            "(SELECT count(*) FROM bars) + (SELECT count(*) FROM anomalies)",
            (raw_topic,),
        )
        found = row.fetchone()
    assert found is not None
    return int(found[0]), int(found[1]), int(found[2])


def settle(
    supervisor: Supervisor, second: SecondNormalize, url: str, raw_topic: str, ref: Reference
) -> float:
    """After the load: until the database holds as many ticks and dead letters as the reference
    made and refused (whether they are the same is for the checks), or nothing new was stored for
    SETTLE_S; returns the seconds it took."""
    expected = (sum(ref.ticks.values()), len(ref.refused))
    began = time.monotonic()
    last, quiet_since = (-1, -1, -1), time.monotonic()
    while time.monotonic() - began < SETTLE_MAX_S:
        supervisor.check()
        second.keep()
        try:
            now = stored(url, raw_topic)
        except psycopg.Error:
            now = (-1, -1, -1)
        # Ticks and dead letters complete: then only until signals' outputs stop coming.
        complete = now[0] >= expected[0] and now[1] >= expected[1]
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= (OUTPUTS_QUIET_S if complete else SETTLE_S):
            break
        time.sleep(1.0)
    return time.monotonic() - began


def gather_database(
    url: str, raw_topic: str
) -> tuple[Counter[str], dict[tuple[int, int], str], list[int]]:
    """Stored tick identities (with their count), the raw topic's dead letters by position, and
    the hostile records' sequences among the ticks."""
    ticks: Counter[str] = Counter()
    # Not autocommit: a server-side cursor lives in a transaction.
    with psycopg.connect(url) as conn:
        query = (
            "SELECT provider || '|' || instrument || '|' || kind || '|' || dedup_key || '|' || "
            "((extract(epoch FROM exchange_ts) * 1000000)::bigint)::text FROM ticks"
        )
        with conn.cursor(name="chaos-ticks") as cursor:
            cursor.itersize = 50_000
            cursor.execute(query)
            for (identity,) in cursor:
                ticks[identity] += 1
        dead = {
            (p, o): reason
            for p, o, reason in conn.execute(
                "SELECT source_partition, source_offset, reason FROM rejects "
                "WHERE service = 'normalize' AND source_topic = %s",
                (raw_topic,),
            )
        }
        leaked = [
            s
            for (s,) in conn.execute(
                "SELECT ingest_seq FROM ticks WHERE ingest_instance = %s", (INSTANCE,)
            )
        ]
    return ticks, dead, leaked


def run(args: argparse.Namespace, work: Path) -> bool:
    plan = (Plan.short if args.short else Plan.long)(args.duration)
    # A soak run measures an undisturbed pipeline unless faults are asked for.
    faults = [] if args.soak and not args.faults else schedule(args.seed, plan)
    kinds = Counter(f.kind for f in faults)
    print(
        f"chaos: seed {args.seed}, {args.duration:g} s at {args.rate:,} ticks/s (primary and "
        f"replica), {args.hostile:,} hostile records; folder {work}"
    )
    print("  faults: " + ", ".join(f"{n} x {k}" for k, n in sorted(kinds.items())))
    broker, postgres = LocalKafka(work / "kafka"), LocalPostgres(work / "postgres")
    broker.start()
    postgres.start()
    url = postgres.dsn
    with psycopg.connect(url) as conn:
        migrate(conn)
    pipeline = pipeline_for(work, broker, url, args)
    supervisor = Supervisor(pipeline, POLICY)
    second = SecondNormalize(pipeline)
    raw_topic = RAW_TICKS
    burst = BurstVenue(broker.bootstrap_servers, raw_topic, INSTRUMENTS, args.seed)
    runner = FaultRunner(
        supervisor,
        broker,
        postgres,
        work / "faults.jsonl",
        slow_consumer=second.pid,
        burst=(burst, args.rate),
    )
    instruments = [spec.split(":")[0] for spec in INSTRUMENTS.split(",")]
    hostile = hostile_records(args.seed, args.hostile, now_us(), instruments)
    gathered = Gathered(args=args, plan=plan, work=work)
    watch: Watch | None = None
    try:
        supervisor.start()
        second.keep()
        feed = HostileFeed(broker.bootstrap_servers, raw_topic, hostile)

        def pids() -> dict[str, int]:
            found = {n: s.process.pid for n, s in pipeline.services.items() if s.process}
            if (normalize_b := second.pid()) is not None:
                found[SLOW_CONSUMER] = normalize_b
            for name, pid in (("broker", broker.running_pid), ("postgres", postgres.running_pid)):
                if pid is not None:
                    found[name] = pid
            return found

        watch = Watch(url, pids).start()
        began = time.monotonic()
        pending, active = list(faults), []
        rounds = 20
        parts = [hostile[i::rounds] for i in range(rounds)]
        hostile_every = (plan.duration_s - plan.cooldown_s) / rounds
        while (elapsed := time.monotonic() - began) < plan.duration_s:
            while pending and pending[0].at_s <= elapsed:
                fault = pending.pop(0)
                if runner.begin(fault):
                    active.append(fault)
                elif (later := runner.later(fault, plan)) is not None:
                    pending.append(later)
                    pending.sort(key=lambda f: f.at_s)
            for fault in [f for f in active if f.ends_s <= elapsed]:
                runner.end(fault)
                active.remove(fault)
            while parts and elapsed >= (rounds - len(parts)) * hostile_every:
                feed.send(parts.pop(0))
            supervisor.check()
            second.keep()
            time.sleep(0.2)
        for fault in active:
            runner.end(fault)
        waited = time.monotonic()
        runner.wait_restored()
        if time.monotonic() - waited > 1.0:
            # A broker or database back only after the load's end: the feeds go on for the last
            # stretch still, so that ticks received after it show the recovery.
            until = time.monotonic() + plan.cooldown_s
            while time.monotonic() < until:
                supervisor.check()
                second.keep()
                time.sleep(0.2)
        gathered.load_end = time.monotonic()
        gathered.restarts = {n: r.restarts for n, r in supervisor.restarts.items()}
        # The load ends: the feeds stop (and stay stopped), the rest drains.
        for name in ("ingest", "ingest-replica"):
            supervisor.restarts.pop(name)
            process = pipeline.services[name].process
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
        gathered.undelivered = feed.flush(120)
        burst.undelivered = burst.flush(120)
        if args.soak:
            watch.join()
            soak(args, watch, began, gathered.load_end)
            return True
        # Every producer has stopped: the raw topic is final, and says what must be stored.
        print("  load over; reading the raw topic back", flush=True)
        gathered.reference = build_reference(
            broker.bootstrap_servers, raw_topic, INSTANCE, each=feed.locate
        )
        feed.unlocated()
        gathered.settle_s = settle(supervisor, second, url, raw_topic, gathered.reference)
        print(f"  settled after {gathered.settle_s:.0f} s more", flush=True)
        watch.join()
        gathered.kills = dict(runner.kills)
        gathered.skipped = len(runner.skipped)
        gathered.scheduled, gathered.applied = Counter(f.kind for f in faults), runner.applied
        gathered.feed, gathered.burst = feed, burst
        gathered.ticks, gathered.dead, gathered.leaked = gather_database(url, raw_topic)
        gathered.outputs = gather_outputs(url, broker.bootstrap_servers)
        gathered.quality = check_quality(url, INSTANCE)
        broker.hanging_transactions()  # also kept in broker.hanging, beside the watch's finds
        gathered.hanging = sorted({str(txn) for txn in broker.hanging})
    finally:
        if watch is not None:
            watch.join()
        supervisor.restarts.clear()
        second.stop()
        pipeline.stop()
        supervisor.clear()
        broker.stop()
        postgres.stop()
    gathered.watch, gathered.ended = watch, runner.ended
    table, ok = report(gathered)
    print(table)
    (work / "report.txt").write_text(table + "\n")
    return ok


def soak(args: argparse.Namespace, watch: Watch, began: float, ended: float) -> None:
    """The soak run's CSV and PNG, kept under .tickwire/soak/ (the run's folder goes)."""
    series = fold(watch.memory, watch.newest, began, ended)
    out = REPO_ROOT / ".tickwire" / "soak" / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    write_csv(series, out / "soak.csv")
    title = (
        f"soak: {args.duration / 60:g} min at {args.rate:,} ticks/s per ingest, seed {args.seed}"
    )
    plot(series, out / "soak.png", title)
    print("\n".join([f"soak: {len(series.rows)} samples of 10 s", *summary(series)]))
    print(f"  written: {out / 'soak.csv'}, {out / 'soak.png'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="100 s, fewer faults (make test)")
    parser.add_argument("--seed", type=int, default=7, help="the same seed, the same faults")
    parser.add_argument("--duration", type=float, help="seconds of load (600; --short 100)")
    parser.add_argument("--rate", type=int, help="ticks/s per ingest (5,000; --short 250)")
    parser.add_argument("--hostile", type=int, help="hostile records (10,000; --short 1,000)")
    parser.add_argument("--folder", type=Path, help="the run's folder (.tickwire/chaos/<time>)")
    parser.add_argument("--keep", action="store_true", help="keep the folder of a passed run too")
    parser.add_argument(
        "--soak", action="store_true", help="an hour of load, memory and latency every 10 s, a PNG"
    )
    parser.add_argument("--faults", action="store_true", help="--soak with the chaos faults")
    args = parser.parse_args()
    # The supervisor's warnings (each exit, each restart) with their time, for the run's story.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    args.duration = args.duration or (100.0 if args.short else 3600.0 if args.soak else 600.0)
    args.rate = args.rate or (250 if args.short else 5_000)
    if args.hostile is None:
        args.hostile = 0 if args.soak else 1_000 if args.short else 10_000
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    work = (args.folder or REPO_ROOT / ".tickwire" / "chaos" / f"{stamp}-seed{args.seed}").resolve()
    work.mkdir(parents=True, exist_ok=True)
    ok = run(args, work)
    if ok:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        print(
            "soak: done (it measures; the chaos run checks)"
            if args.soak
            else "chaos: every check passed"
        )
        return 0
    print(f"chaos: a check failed; the run's logs, data and faults.jsonl are kept in {work}")
    return 1


if __name__ == "__main__":
    sys.exit(main())

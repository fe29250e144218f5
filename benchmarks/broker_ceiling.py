"""The broker's ceiling on this machine: Kafka's own producer and consumer performance tools
(kafka-producer-perf-test / kafka-consumer-perf-test, from the kafka-tools jars that
`scripts/install-kafka.sh tools` installs beside the broker) on a topic shaped like the raw topic.

The producer tool sends N records of the raw record's mean size (simulator ticks in the raw
envelope, Avro-encoded as ingest sends them) to a topic with the raw topic's partition count, with
the settings the pipeline's producer sets itself: acks=all, idempotence, lz4, linger.ms=5 (the
rest at the Java client's defaults). Its payloads are random letters, which lz4 barely shrinks,
while the pipeline's JSON inside Avro compresses well: the broker carries more bytes a record here,
so the ceiling is, if anything, low. The consumer tool then reads the N records back with
read_committed, as the services do; its rate is counted over fetching, without the group join.

Usage: python benchmarks/broker_ceiling.py [--records N]
(KAFKA_BOOTSTRAP_SERVERS, when set, names the broker to use)"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from bench_results import record
from confluent_kafka.admin import AdminClient, NewTopic

from tickwire_core.localstack import _process
from tickwire_core.localstack.kafka import LocalKafka
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import RAW_TICKS, load_topics
from tickwire_ingest.domain.raw import Envelope
from tickwire_ingest.domain.simulator import SimConfig, Simulator, parse_instruments

_INSTALL = _process.REPO_ROOT / "scripts" / "install-kafka.sh"
# The tools share two cores with the broker: one GC thread and a bounded heap, as the broker has.
_JVM = ("java", "-Xms256m", "-Xmx1g", "-XX:+UseSerialGC")
# What tickwire_core.kafka.producer_config sets for every service's producer.
_PIPELINE_PRODUCER = {
    "acks": "all",
    "enable.idempotence": "true",
    "compression.type": "lz4",
    "linger.ms": "5",
    # librdkafka's batch.size default (1,000,000 bytes a partition batch), which the pipeline's
    # producer keeps; the Java client's own default of 16 KiB would hold the tool far below it.
    "batch.size": "1000000",
}
_PRODUCED = re.compile(
    r"(?P<records>\d+) records sent, (?P<rate>[\d.]+) records/sec \((?P<mb>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency"
)


def raw_record_size(samples: int = 10_000) -> int:
    """Mean bytes of a raw record as ingest publishes the simulator's ticks (Avro, before
    compression), with the simulator's default instruments."""
    simulator = Simulator(
        SimConfig(parse_instruments("SIM-BTC-USD:65000:0.5,SIM-ETH-USD:3500:0.05"))
    )
    envelope, serde = Envelope("simulator", "primary"), AvroSerde()
    total = 0
    for i in range(samples):
        ts = 1_750_000_000_000_000 + i * 200
        message = simulator.next_message(ts)
        wrapped = envelope.wrap(message.feed, message.instrument, message.payload, ts + 150)
        total += len(serde.encode("raw_tick", wrapped))
    return round(total / samples)


def parse_producer(output: str) -> dict[str, float]:
    """The producer tool's final line: records sent, records/s, MB/s and latencies."""
    found = [m for m in _PRODUCED.finditer(output) if "99th" in output[m.end() : m.end() + 80]]
    if not found:
        raise ValueError(f"no summary line in the producer tool's output:\n{output[-2000:]}")
    last = found[-1]
    return {
        "records": float(last["records"]),
        "records_per_s": float(last["rate"]),
        "mb_per_s": float(last["mb"]),
        "avg_latency_ms": float(last["avg"]),
        "max_latency_ms": float(last["max"]),
    }


def parse_consumer(output: str) -> dict[str, float]:
    """The consumer tool's CSV: a header line naming the columns, then one line of figures."""
    lines = [line for line in output.splitlines() if line.strip()]
    for at, line in enumerate(lines[:-1]):
        if line.startswith("start.time"):
            header = [name.strip() for name in line.split(",")]
            values = [value.strip() for value in lines[at + 1].split(",")]
            row = dict(zip(header, values, strict=True))
            return {
                "records": float(row["data.consumed.in.nMsg"]),
                "records_per_s": float(row["fetch.nMsg.sec"]),
                "mb_per_s": float(row["fetch.MB.sec"]),
                "rebalance_ms": float(row["rebalance.time.ms"]),
            }
    raise ValueError(f"no figures in the consumer tool's output:\n{output[-2000:]}")


def tools_classpath() -> str:
    done = subprocess.run(
        ["bash", str(_INSTALL), "tools"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"scripts/install-kafka.sh tools failed:\n{done.stderr[-2000:]}")
    return str(Path(done.stdout.strip().splitlines()[-1]) / "libs" / "*")


def run_tool(classpath: str, main: str, args: list[str], log: Path) -> str:
    """Run one tool; its stdout is returned, its stderr (log4j, warnings) kept in `log`."""
    with open(log, "ab") as err:
        done = subprocess.run(
            [*_JVM, "-cp", classpath, main, *args], stdout=subprocess.PIPE, stderr=err, check=False
        )
    output = done.stdout.decode(errors="replace")
    if done.returncode != 0:
        raise SystemExit(f"{main} exited with {done.returncode}; see {log}:\n{output[-2000:]}")
    return output


def measure(bootstrap: str, records: int, work: Path) -> dict[str, float]:
    classpath = tools_classpath()
    partitions = next(t.partitions for t in load_topics() if t.name == RAW_TICKS)
    size = raw_record_size()
    topic = f"ceiling.{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result()
    settings = [f"{key}={value}" for key, value in _PIPELINE_PRODUCER.items()]
    produced = parse_producer(
        run_tool(
            classpath,
            "org.apache.kafka.tools.ProducerPerformance",
            [
                "--topic",
                topic,
                "--num-records",
                str(records),
                "--record-size",
                str(size),
                "--throughput",
                "-1",
                "--producer-props",
                f"bootstrap.servers={bootstrap}",
                *settings,
            ],
            work / "producer-tool.log",
        )
    )
    consumed = parse_consumer(
        run_tool(
            classpath,
            "org.apache.kafka.tools.ConsumerPerformance",
            [
                "--bootstrap-server",
                bootstrap,
                "--topic",
                topic,
                "--num-records",
                str(records),
                "--group",
                f"{topic}.reader",
                "--timeout",
                "60000",
                "--command-property",
                "isolation.level=read_committed",
            ],
            work / "consumer-tool.log",
        )
    )
    admin.delete_topics([topic])
    print(
        f"topic: {partitions} partitions, {records:,} records of {size} bytes "
        "(the raw record's mean)"
    )
    print(f"producer settings: {' '.join(settings)}")
    print(
        f"Kafka producer tool: {produced['records_per_s']:,.0f} records/s "
        f"({produced['mb_per_s']:.1f} MB/s), latency avg {produced['avg_latency_ms']:.0f} ms, "
        f"max {produced['max_latency_ms']:.0f} ms"
    )
    print(
        f"Kafka consumer tool: {consumed['records_per_s']:,.0f} records/s "
        f"({consumed['mb_per_s']:.1f} MB/s) of {consumed['records']:,.0f}, "
        f"group join {consumed['rebalance_ms']:.0f} ms"
    )
    return {
        "record_bytes": float(size),
        "producer_records_per_s": produced["records_per_s"],
        "consumer_records_per_s": consumed["records_per_s"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tickwire-ceiling-"))
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    broker = None
    try:
        if not bootstrap:
            broker = LocalKafka(work / "kafka")
            broker.start()
            bootstrap = broker.bootstrap_servers
        record("broker_ceiling", measure(bootstrap, args.records, work))
    finally:
        if broker is not None:
            broker.stop()
    shutil.rmtree(work, ignore_errors=True)  # the broker's data; a failure keeps it and the logs
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

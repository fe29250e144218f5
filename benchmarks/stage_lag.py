"""Where a tick's latency goes, stage by stage: readers of the raw and normalized topics take each
record's broker append time and the moment a read_committed reader gets it, against received_ts.

The run's topics are switched to LogAppendTime, so a record's timestamp is the broker's clock when
it appended the record (for a transaction's records: when they were written, before the commit),
on this machine like ingest's clock. A read_committed reader sees a transaction's records once its
commit marker is written; it polls one record at a time, so a sample is its arrival, not the end
of a batch wait. Only the leading fields up to received_ts are decoded (both schemas start with
strings and longs), which keeps the readers' cost per record to a few microseconds."""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import fastavro
from bench_results import latency_summary
from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME, Consumer, Message
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)

from tickwire_core.clock import now_us
from tickwire_core.serde import AvroSerde

_HEADER_LEN = 10  # Avro single-object encoding: 2 marker bytes and the schema's 8-byte fingerprint


def use_append_time(bootstrap: str, topics: Sequence[str]) -> None:
    """Have the broker stamp these topics' records with its own clock when it appends them."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    entry = ConfigEntry(
        "message.timestamp.type",
        "LogAppendTime",
        incremental_operation=AlterConfigOpType.SET,
    )
    resources = [
        ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[entry]) for topic in topics
    ]
    for future in admin.incremental_alter_configs(resources).values():
        future.result(timeout=30)


def leading_reader(serde: AvroSerde, schema: str, last: str) -> Callable[[bytes], dict[str, Any]]:
    """A decoder of a record's fields up to and including `last`: Avro fields are written in
    order, so a writer schema cut after `last` reads them and leaves the rest of the body unread."""
    fields = serde.schema(schema)["fields"]
    names = [f["name"] for f in fields]
    cut = {
        "type": "record",
        "name": f"Leading{schema.title().replace('_', '')}",
        "fields": fields[: names.index(last) + 1],
    }
    parsed = fastavro.parse_schema(cut)

    def read(value: bytes) -> dict[str, Any]:
        record = fastavro.schemaless_reader(io.BytesIO(value[_HEADER_LEN:]), parsed, None)
        assert isinstance(record, dict)
        return record

    return read


@dataclass
class TopicLag:
    """Per record of one topic: (received_us, append_us, visible_us) on one clock."""

    samples: list[tuple[int, int, int]] = field(default_factory=list)
    not_append_time: int = 0  # records whose timestamp was not the broker's (config not applied)


def follow(bootstrap: str, topic: str, stop: threading.Event) -> Iterator[tuple[Message, int]]:
    """Each committed record of `topic` from its start, with the time it reached this reader,
    until `stop` is set."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"{topic}.probe-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            # Asks often, so a sample is the record's arrival and not this reader's wait.
            "fetch.wait.max.ms": 10,
        }
    )
    consumer.subscribe([topic])
    try:
        while not stop.is_set():
            message = consumer.poll(0.1)
            if message is None or message.error():
                continue
            yield message, now_us()
    finally:
        consumer.close()


def read_topic(
    bootstrap: str,
    topic: str,
    decode: Callable[[bytes], dict[str, Any]],
    time_field: str,
    lag: TopicLag,
    stop: threading.Event,
) -> None:
    for message, visible_us in follow(bootstrap, topic, stop):
        kind, append_ms = message.timestamp()
        if kind != TIMESTAMP_LOG_APPEND_TIME:
            lag.not_append_time += 1
            continue
        # The serde's schemas carry times as plain longs (no logical types).
        received_us = int(decode(message.value())[time_field])
        lag.samples.append((received_us, append_ms * 1000, visible_us))


@dataclass(frozen=True)
class Stage:
    """One row of the table: `name`, and the cumulative latency of its probe since received_ts."""

    name: str
    cumulative_ms: list[float]


def stages_from(
    raw: TopicLag, ticks: TopicLag, queryable_ms: list[float], start_us: int
) -> list[Stage]:
    """The probes in pipeline order, each from received_ts, for ticks received from `start_us`."""

    def since(lag: TopicLag, index: int) -> list[float]:
        return [(s[index] - s[0]) / 1000 for s in lag.samples if s[0] >= start_us]

    return [
        Stage("ingest -> raw topic (append)", since(raw, 1)),
        Stage("-> ticks topic (normalize's append)", since(ticks, 1)),
        Stage("-> ticks readable (transaction committed)", since(ticks, 2)),
        Stage("-> row visible in PostgreSQL (sink's commit)", queryable_ms),
    ]


def stage_table(stages: Sequence[Stage]) -> list[str]:
    """Lines of the per-stage table: each probe's p50 / p99 / max since received_ts, and the
    stage's own share as the difference of medians (probes see different samples of the same
    ticks, so differences of percentiles, not per-tick differences)."""
    lines = [
        f"  {'probe, cumulative since received_ts':<48} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'stage p50':>10} {'samples':>9}"
    ]
    previous = 0.0
    for stage in stages:
        if not stage.cumulative_ms:
            lines.append(f"  {stage.name:<48} {'no samples':>8}")
            continue
        s = latency_summary(stage.cumulative_ms)
        lines.append(
            f"  {stage.name:<48} {s['p50']:>8.1f} {s['p99']:>8.1f} {s['max']:>8.1f} "
            f"{s['p50'] - previous:>+10.1f} {int(s['count']):>9,}"
        )
        previous = s["p50"]
    return lines


def stage_lines(
    raw: TopicLag,
    ticks: TopicLag,
    queryable_ms: list[float],
    anomalies: Sequence[tuple[int, int, int]],
    start_us: int,
) -> list[str]:
    """Both tables: the ticks' stages, and the anomalies' (samples of (ts, arrival - ts, append -
    ts or -1 where the topic kept CreateTime), microseconds) since the judged tick's ts."""
    after = [(lat, appended) for ts, lat, appended in anomalies if ts >= start_us]
    anomaly_stages = [
        Stage("-> anomalies topic (signals' append)", [a / 1000 for _, a in after if a >= 0]),
        Stage("-> anomaly readable", [lat / 1000 for lat, _ in after]),
    ]
    return [
        "  where the time goes (ticks):",
        *stage_table(stages_from(raw, ticks, queryable_ms, start_us)),
        "  where the time goes (anomalies, since the judged tick's ts):",
        *stage_table(anomaly_stages),
    ]

"""python -m tickwire_ingest.record: copy raw_tick records from a Kafka topic into a replay file,
so an incident (or a stretch of history) can be replayed with TICKWIRE_CONNECTOR=replay."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from typing import Protocol

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaError, TopicPartition

from tickwire_core.errors import SerializationError
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import RAW_TICKS
from tickwire_ingest.adapters.replay_file import ReplayWriter
from tickwire_ingest.domain.events import VenueMessage

_POLL_S = 0.5


class _Message(Protocol):
    def value(self) -> bytes | None: ...
    def error(self) -> KafkaError | None: ...


class _Source(Protocol):
    def poll(self, timeout: float = ...) -> _Message | None: ...


def record(
    source: _Source,
    serde: AvroSerde,
    writer: ReplayWriter,
    *,
    max_records: int = 0,
    idle_timeout_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    warn: Callable[[str], None] = print,
) -> int:
    """Write records until `max_records` are written (0 = no limit) or none has arrived for
    `idle_timeout_s` (None = never). Records that do not decode are reported and skipped.
    Returns how many were written."""
    last_seen = clock()
    while max_records == 0 or writer.written < max_records:
        if idle_timeout_s is not None and clock() - last_seen >= idle_timeout_s:
            break
        wait = _POLL_S if idle_timeout_s is None else min(_POLL_S, idle_timeout_s)
        message = source.poll(wait)
        if message is None:
            continue
        last_seen = clock()
        error = message.error()
        if error is not None:
            if error.fatal():
                raise RuntimeError(f"Kafka: {error.str()}")
            warn(f"Kafka: {error.str()}")
            continue
        try:
            raw = serde.decode("raw_tick", message.value())
        except SerializationError as exc:
            warn(f"skipped a record: {exc}")
            continue
        writer.write(
            VenueMessage(
                feed=raw["feed"],
                instrument=raw["instrument"],
                payload=raw["payload"],
                received_ts=raw["received_ts"],
                provider=raw["provider"],
                content_type=raw["content_type"],
            )
        )
    return writer.written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tickwire_ingest.record", description=__doc__)
    parser.add_argument("--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    parser.add_argument("--topic", default=os.environ.get("TICKWIRE_TOPIC_PREFIX", "") + RAW_TICKS)
    parser.add_argument("--out", required=True, help="replay file; gzip if it ends in .gz")
    parser.add_argument("--max", type=int, default=0, help="stop after N records (0: no limit)")
    parser.add_argument(
        "--timeout", type=float, default=None, help="stop after S seconds without a record"
    )
    parser.add_argument(
        "--from",
        dest="start",
        choices=("earliest", "latest"),
        default="earliest",
        help="start at the oldest record the topic keeps, or at the next one to arrive",
    )
    args = parser.parse_args(argv)
    if not args.bootstrap_servers:
        parser.error("--bootstrap-servers (or KAFKA_BOOTSTRAP_SERVERS) is required")
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap_servers,
            # Partitions are assigned directly: the group only names the client, nothing commits.
            "group.id": f"tickwire-record-{uuid.uuid4().hex[:12]}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            **json.loads(os.environ.get("KAFKA_CLIENT_CONFIG") or "{}"),
        }
    )
    try:
        topic = consumer.list_topics(args.topic, timeout=10).topics.get(args.topic)
        if topic is None or topic.error is not None or not topic.partitions:
            print(f"topic {args.topic} not found", file=sys.stderr)
            return 1
        offset = OFFSET_BEGINNING if args.start == "earliest" else OFFSET_END
        consumer.assign([TopicPartition(args.topic, p, offset) for p in topic.partitions])
        # Ctrl-C ends a capture: what was written is kept and the file completed.
        with ReplayWriter(args.out) as writer, contextlib.suppress(KeyboardInterrupt):
            record(
                consumer,
                AvroSerde(),
                writer,
                max_records=args.max,
                idle_timeout_s=args.timeout,
                warn=lambda text: print(text, file=sys.stderr),
            )
    finally:
        consumer.close()
    print(f"recorded {writer.written} records from {args.topic} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Subscribe to tickwire's signals (or anomalies, or bars) from your own Kafka consumer and decode
them with the schema files in schemas/, using only confluent-kafka and fastavro.

    python examples/consume_signals.py --bootstrap-servers localhost:19092 \
        --topic tickwire.signals --schema schemas/signal.avsc [--group my-research] [--max 10]

Values use Avro single-object encoding: 0xC3 0x01, the 8-byte little-endian CRC-64-AVRO
fingerprint of the writer's schema, then the Avro body. Keys are "provider|instrument"."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import fastavro
from confluent_kafka import Consumer

MAGIC = b"\xc3\x01"


def load_schema(path: str) -> tuple[bytes, Any]:
    """The schema's fingerprint (as single-object encoding writes it) and its parsed form."""
    with open(path) as handle:
        declared = json.load(handle)
    canonical = fastavro.schema.to_parsing_canonical_form(declared)
    fingerprint = bytes.fromhex(fastavro.schema.fingerprint(canonical, "CRC-64-AVRO"))
    return fingerprint, fastavro.parse_schema(declared)


def decode(value: bytes, fingerprint: bytes, schema: Any) -> dict[str, Any]:
    if value[:2] != MAGIC:
        raise ValueError("not an Avro single-object record")
    if value[2:10] != fingerprint:
        # A newer producer wrote with a newer schema version: update your copy of schemas/.
        raise ValueError(f"written with another schema version ({value[2:10].hex()})")
    record = fastavro.schemaless_reader(io.BytesIO(value[10:]), schema, schema)
    assert isinstance(record, dict)
    return record


def records(
    bootstrap_servers: str, topic: str, schema_path: str, group: str, idle_s: float
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(key, record) pairs from the start of the topic until nothing arrives for idle_s."""
    fingerprint, schema = load_schema(schema_path)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe([topic])
    try:
        while True:
            message = consumer.poll(idle_s)
            if message is None:
                return
            if message.error():
                raise RuntimeError(message.error())
            yield (message.key() or b"").decode(), decode(message.value(), fingerprint, schema)
    finally:
        consumer.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--topic", default="tickwire.signals")
    parser.add_argument("--schema", default="schemas/signal.avsc")
    parser.add_argument("--group", default="signals-example")
    parser.add_argument("--max", type=int, default=0, help="stop after this many; 0 = never")
    parser.add_argument("--idle", type=float, default=10.0, help="stop after this many quiet s")
    args = parser.parse_args()
    stream = records(args.bootstrap_servers, args.topic, args.schema, args.group, args.idle)
    for seen, (key, record) in enumerate(stream, start=1):
        print(json.dumps({"key": key, **record}, default=str), flush=True)
        if args.max and seen >= args.max:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())

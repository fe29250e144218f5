"""The last venue sequence number of each instrument on the raw topic, read from the tail of each
partition: where a restarted simulator continues its venue (domain/simulator.py, resume)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Collection

from confluent_kafka import OFFSET_END, Consumer, KafkaException, TopicPartition

from tickwire_core.errors import SerializationError
from tickwire_core.serde import AvroSerde

logger = logging.getLogger(__name__)

# Records read back per partition: at the simulator's default 200 updates a second over 6
# partitions, minutes of them, and always the last few seconds at chaos rates.
TAIL = 20_000
_READ_S = 60.0  # reading a tail that does not end in this long (a broker away) gives up on it


def last_sequences(
    consumer: Consumer,
    topic: str,
    provider: str,
    instruments: Collection[str],
    tail: int = TAIL,
) -> dict[str, int]:
    """instrument -> the highest `seq` of its venue messages in the last `tail` records of each
    partition (any ingest instance's); instruments without one are left out."""
    serde = AvroSerde()
    found: dict[str, int] = {}
    metadata = consumer.list_topics(topic, timeout=10).topics[topic]
    if metadata.error is not None:
        raise KafkaException(metadata.error)
    for partition in sorted(metadata.partitions):
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        if high <= low:
            continue
        consumer.assign([TopicPartition(topic, partition, max(low, high - tail))])
        deadline = time.monotonic() + _READ_S
        position = -1
        while position < high - 1 and time.monotonic() < deadline:
            for message in consumer.consume(1_000, timeout=1.0):
                if message.error() is not None:
                    continue
                position = message.offset() or position
                try:
                    raw = serde.decode("raw_tick", message.value())
                    if raw["provider"] != provider or raw["instrument"] not in instruments:
                        continue
                    seq = json.loads(raw["payload"]).get("seq")
                except (
                    SerializationError,
                    ValueError,
                    AttributeError,
                    TypeError,
                    KeyError,
                    RecursionError,  # JSON nested deeper than the parser goes
                ):
                    # Not a record of this venue's, or a malformed one: the raw topic holds
                    # whatever ingest was given, and one bad record must not stop a restart.
                    continue
                if isinstance(seq, int) and not isinstance(seq, bool):
                    found[raw["instrument"]] = max(seq, found.get(raw["instrument"], 0))
        consumer.assign([TopicPartition(topic, partition, OFFSET_END)])
    return found

"""A Kafka message of a tickwire topic as one plain line (topic, partition, offset, time, key,
decoded value), decoded by the services' own serde; a dead letter's payload decoded too."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tickwire_cli.context import Env
from tickwire_cli.reading import topic_by_broker_name
from tickwire_core.errors import SerializationError
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import Topic, load_topics

DEAD_LETTER_SCHEMA = "dead_letter"


def plain_bytes(data: bytes | None) -> str | dict[str, str] | None:
    """Bytes as their text when they are UTF-8 (keys, JSON payloads), else {"base64": ...}."""
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}


def plain(value: Any) -> Any:
    """A decoded Avro value with its bytes made printable (JSON has no bytes)."""
    if isinstance(value, bytes):
        return plain_bytes(value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def kafka_time(msg: Any) -> str | None:
    kind, ms = msg.timestamp()
    if ms is None or ms < 0 or kind == 0:  # TIMESTAMP_NOT_AVAILABLE
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def key_parts(key: bytes | None) -> tuple[str, str] | None:
    """provider and instrument of a provider|instrument key."""
    if not key:
        return None
    text = key.decode("utf-8", errors="replace")
    provider, sep, instrument = text.partition("|")
    return (provider, instrument) if sep else None


class Decoder:
    """Decodes the messages of the pipeline's topics with every schema version ever written."""

    def __init__(self, env: Env, serde: AvroSerde | None = None) -> None:
        self.env = env
        self.serde = serde or AvroSerde()
        self.table = load_topics()  # read once: every dead letter asks it for its source

    def line(self, msg: Any, topic: Topic) -> dict[str, Any]:
        line: dict[str, Any] = {
            "topic": msg.topic(),
            "partition": msg.partition(),
            "offset": msg.offset(),
            "timestamp": kafka_time(msg),
            "key": plain_bytes(msg.key()),
        }
        headers = msg.headers()
        if headers:
            line["headers"] = {name: plain_bytes(value) for name, value in headers}
        try:
            record = self.serde.decode(topic.value_schema, msg.value())
        except SerializationError as exc:
            line["error"] = str(exc)
            line["value"] = plain_bytes(msg.value())
            return line
        if topic.value_schema == DEAD_LETTER_SCHEMA:
            line["value"] = self.dead_letter(record)
        else:
            line["value"] = plain(record)
        return line

    def source_of(self, letter: Mapping[str, Any]) -> Topic | None:
        """The table row of the topic a dead letter came from; None if not one of ours."""
        return topic_by_broker_name(self.env, letter["source_topic"], self.table)

    def dead_letter(self, letter: Mapping[str, Any]) -> dict[str, Any]:
        """Reason, source, what it was about (provider, instrument, event_ts, where known) and the
        original payload: decoded when it is a record of a tickwire topic, else its text, else
        base64 (with why it did not decode)."""
        out: dict[str, Any] = {
            "reason": letter["reason"],
            "message": letter["message"],
            "service": letter["service"],
            "source": {
                "topic": letter["source_topic"],
                "partition": letter["source_partition"],
                "offset": letter["source_offset"],
                "key": plain_bytes(letter.get("source_key")),
            },
            "rejected_ts": letter["rejected_ts"],
        }
        for about in ("provider", "instrument", "event_ts"):  # where the rejecting service knew
            if letter.get(about) is not None:
                out[about] = letter[about]
        payload: bytes = letter["payload"]
        source = self.source_of(letter)
        if source is None:
            out["payload"] = plain_bytes(payload)
            return out
        try:
            out["payload"] = plain(self.serde.decode(source.value_schema, payload))
            out["payload_schema"] = source.value_schema
        except SerializationError as exc:
            out["payload"] = plain_bytes(payload)
            out["payload_error"] = str(exc)
        return out


def matches(
    line: Mapping[str, Any], topic: Topic, provider: str | None, instrument: str | None
) -> bool:
    """Whether a line is about `provider` / `instrument`: by the record's own fields (a dead
    letter: its decoded payload's), or by a provider|instrument key."""
    if provider is None and instrument is None:
        return True
    value = line.get("value")
    record: Any = value
    key: Any = line.get("key") if topic.key == "provider|instrument" else None
    if topic.value_schema == DEAD_LETTER_SCHEMA and isinstance(value, Mapping):
        record = value.get("payload")
        key = value["source"].get("key")
    providers: set[str] = set()
    instruments: set[str] = set()
    if isinstance(record, Mapping):
        providers.add(str(record.get("provider") or ""))
        instruments.update(str(record.get(f) or "") for f in ("instrument", "venue_instrument"))
    if isinstance(key, str):
        parts = key_parts(key.encode())
        if parts is not None:
            providers.add(parts[0])
            instruments.add(parts[1])
    return (provider is None or provider in providers) and (
        instrument is None or instrument in instruments
    )

"""Recording: raw_tick records from a Kafka topic into a replay file (`tickwire record`), so that an
incident or a stretch of history can be replayed (`tickwire replay`, TICKWIRE_CONNECTOR=replay)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from confluent_kafka import KafkaError

from tickwire_core.errors import SerializationError
from tickwire_core.serde import AvroSerde
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
    on_written: Callable[[int], None] | None = None,
) -> int:
    """Write records until `max_records` are written (0 = no limit) or none has arrived for
    `idle_timeout_s` (None = never). Records that do not decode are reported and skipped;
    `on_written(written so far)` follows each record written. Returns how many were written."""
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
        if on_written is not None:
            on_written(writer.written)
    return writer.written

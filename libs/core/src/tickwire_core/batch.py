"""What a run loop's batch handler sees and returns: the decoded records of a batch in, the
records to produce and the rejects (dead letters) out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tickwire_core.errors import RejectedRecord

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Consumed:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    raw: bytes
    value: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Output:
    topic: str
    key: bytes | None
    schema: str
    value: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Reject:
    """A record set aside, and what it was about where the handler could read it that far (the
    quality report counts rejects per provider, instrument and day; None: unattributed)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    raw: bytes
    reason: str
    message: str
    provider: str | None = None
    instrument: str | None = None
    event_ts: int | None = None  # UTC microseconds


@dataclass
class Outcome:
    outputs: list[Output] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


class BatchHandler(Protocol):
    """Turns a batch into outputs and rejects; raising makes the loop retry the whole batch.

    Optional hooks a handler may define: close() when the loop ends; on_assign(consumer,
    partitions) before newly assigned partitions start (it may set their start offsets);
    on_revoke(partitions); commit_position(topic, partition, next_offset) -> (offset, metadata)
    or None, what to commit for a partition (None: nothing yet), the metadata being what
    on_assign reads back to rebuild state."""

    def __call__(self, records: list[Consumed]) -> Outcome: ...


# Where the records of the pipeline keep the time they describe: microseconds, or days (Avro date).
_TIME_FIELDS = ("exchange_ts", "start_ts", "ts")
_DAY_FIELDS = ("trade_date", "settlement_date")
_US_PER_DAY = 86_400_000_000


def event_time(record: Mapping[str, Any]) -> int | None:
    """The time a record describes, UTC microseconds: a tick's exchange time, a bar's start, an
    anomaly's or a signal's time, the day of short volume or interest; None if it has none."""
    for name in _TIME_FIELDS:
        value = record.get(name)
        if isinstance(value, int):
            return value
    for name in _DAY_FIELDS:
        value = record.get(name)
        if isinstance(value, int):
            return value * _US_PER_DAY
    return None


def reject(
    record: Consumed,
    reason: str,
    message: str,
    *,
    provider: str | None = None,
    instrument: str | None = None,
    event_ts: int | None = None,
) -> Reject:
    return Reject(
        record.topic,
        record.partition,
        record.offset,
        record.key,
        record.raw,
        reason,
        message,
        provider,
        instrument,
        event_ts,
    )


def per_record(handle: Callable[[Consumed], Iterable[Output]]) -> BatchHandler:
    """A batch handler from a per-record function; RejectedRecord becomes a dead letter."""

    def handle_batch(records: list[Consumed]) -> Outcome:
        outcome = Outcome()
        for record in records:
            try:
                outcome.outputs.extend(handle(record))
            except RejectedRecord as exc:
                outcome.rejects.append(reject(record, exc.reason, exc.message))
            except Exception as exc:  # a bug must not stall the partition: keep the record
                logger.exception(
                    "handler failed topic=%s partition=%d offset=%d",
                    record.topic,
                    record.partition,
                    record.offset,
                )
                outcome.rejects.append(
                    reject(record, "handler_error", f"{type(exc).__name__}: {exc}")
                )
        return outcome

    return handle_batch

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
    topic: str
    partition: int
    offset: int
    key: bytes | None
    raw: bytes
    reason: str
    message: str


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


def reject(record: Consumed, reason: str, message: str) -> Reject:
    return Reject(
        record.topic, record.partition, record.offset, record.key, record.raw, reason, message
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

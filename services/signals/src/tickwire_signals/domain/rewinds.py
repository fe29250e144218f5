"""Input events that the stream library let go without the handler applying them, and the reads
again that fill the hole: per partition, where to seek, and which events to leave out meanwhile.

faust acknowledges an event it skips (while its flow control is paused around a rebalance, or of
an earlier generation), and an acknowledged offset is committed: the events were lost for good,
and an instrument's state went on without them. Here such an event is never acknowledged; its
partition is read again from it, and the events fetched past it are left out until it comes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar


class Positioned(Protocol):
    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...


E = TypeVar("E", bound="Positioned")


@dataclass
class Rewinds:
    pending: dict[int, int] = field(default_factory=dict)  # partition -> offset to seek to
    waiting: dict[int, int] = field(default_factory=dict)  # sought, its event not yet come

    def skipped(self, partition: int, offset: int) -> None:
        """An event was let go without being applied: read its partition again from it."""
        if offset >= self.waiting.get(partition, offset + 1):
            return  # the seek in progress reads it again
        self.pending[partition] = min(offset, self.pending.get(partition, offset))

    def seeks(self) -> dict[int, int]:
        """The seeks to do now (partition -> offset); after them, `admit` waits for each."""
        due, self.pending = self.pending, {}
        for partition, offset in due.items():
            self.waiting[partition] = min(offset, self.waiting.get(partition, offset))
        return due

    def admit(self, events: Iterable[E]) -> list[E]:
        """The events to apply: those of a partition that is read again are left out until the
        event it was sought to comes."""
        kept = []
        for event in events:
            target = self.waiting.get(event.partition)
            if target is not None:
                if event.offset > target:
                    continue
                del self.waiting[event.partition]
            kept.append(event)
        return kept

    def forget(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self.pending.pop(partition, None)
            self.waiting.pop(partition, None)

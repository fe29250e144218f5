"""Holes in what reaches the handler: per partition, the offset the next tick must have, checked
against the records the consumer actually fetched, so a record lost on its way is read again.

The stream library can lose a fetched record between the fetch and the agent: records fetched
before a seek or a reassignment are handed over after it, and a record the new position makes
look old is dropped; a hand-over cancelled by a rebalance goes nowhere. An instrument's state then
applies the ticks after the lost one, and the lost one, read again later, counts as a
redelivery: gone for good. Offsets do not run without gaps either: a transactional producer's
commit markers take offsets and are never handed over. So a gap is a loss only where the fetches
showed a data record in it; then the partition is read again from the first such record."""

from __future__ import annotations

from collections.abc import Iterable


class Continuity:
    def __init__(self) -> None:
        self._next: dict[int, int] = {}  # partition -> offset the next tick must have
        self._fetched: dict[int, set[int]] = {}  # partition -> data records fetched, not yet seen

    def fetched(self, partition: int, offsets: Iterable[int]) -> None:
        """The consumer fetched these data records of the partition."""
        self._fetched.setdefault(partition, set()).update(offsets)

    def resume_at(self, partition: int, offset: int | None) -> None:
        """The partition was sought to offset (None: to where its reset policy says, unknown)."""
        fetched = self._fetched.get(partition)
        if offset is None:
            self._next.pop(partition, None)
            return
        self._next[partition] = offset
        if fetched:
            fetched.difference_update([o for o in fetched if o < offset])

    def check(self, partition: int, offset: int) -> int | None:
        """A tick at offset is about to be applied. None when nothing before it is missing (it
        is the next one, a redelivery, or only markers lie between); else the offset of the first
        fetched record that never came, from which the partition must be read again."""
        expected = self._next.get(partition)
        fetched = self._fetched.get(partition)
        if fetched and offset != expected and (expected is None or offset > expected):
            if expected is not None and offset - expected <= 64:  # a marker or two, usually
                missing = [o for o in range(expected, offset) if o in fetched]
            else:
                low = -1 if expected is None else expected
                missing = [o for o in fetched if low <= o < offset]
            if missing:
                return min(missing)
        if fetched:
            fetched.discard(offset)
        if expected is None or offset >= expected:
            self._next[partition] = offset + 1
        return None

    def forget(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self._next.pop(partition, None)
            self._fetched.pop(partition, None)

"""Coalescing of redundant ingest instances: the keys of recent updates per input partition, so the
copy of an update that a second instance (or a reconnect, or a replay) delivers is dropped.

The window is measured in receipt time (the newest received_ts seen on the partition), not wall
time, so rebuilding it by re-reading the partition gives exactly the same state."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class _Partition:
    # key -> (received_ts, offset), oldest first: insertion order is the eviction order.
    keys: OrderedDict[str, tuple[int, int]] = field(default_factory=OrderedDict)
    newest_ts: int = 0


@dataclass
class DedupWindow:
    """Remembers each update key for `window_us` of receipt time, and at most `max_keys` keys per
    partition (the cap bounds memory whatever the rate; hitting it shortens the window and is
    counted in `evicted_early`)."""

    window_us: int
    max_keys: int
    evicted_early: int = 0
    _partitions: dict[int, _Partition] = field(default_factory=dict)

    def first_sighting(self, partition: int, key: str, received_ts: int, offset: int) -> bool:
        """True the first time `key` is seen within the window; False for a copy."""
        state = self._partitions.setdefault(partition, _Partition())
        if received_ts > state.newest_ts:
            state.newest_ts = received_ts
            self._expire(state)
        if key in state.keys:
            return False
        state.keys[key] = (received_ts, offset)
        if len(state.keys) > self.max_keys:
            state.keys.popitem(last=False)
            self.evicted_early += 1
        return True

    def _expire(self, state: _Partition) -> None:
        horizon = state.newest_ts - self.window_us
        keys = state.keys
        while keys:
            oldest = next(iter(keys.values()))
            if oldest[0] >= horizon:
                break
            keys.popitem(last=False)

    def oldest_offset(self, partition: int) -> int | None:
        """Offset of the oldest record still remembered: re-reading the partition from there
        rebuilds this partition's window (see the normalize service's warm-up)."""
        state = self._partitions.get(partition)
        if state is None or not state.keys:
            return None
        # Keys are inserted in consumption order, which within a partition is offset order.
        return next(iter(state.keys.values()))[1]

    def forget_from(self, partition: int, offset: int) -> None:
        """Forget the keys first seen at `offset` or later: the partition is being read again
        from there (a failed batch retried), and those records are not copies of themselves."""
        state = self._partitions.get(partition)
        if state is None:
            return
        keys = state.keys
        while keys and next(reversed(keys.values()))[1] >= offset:
            keys.popitem(last=True)

    def drop(self, partition: int) -> None:
        """Forget a partition that moved to another instance."""
        self._partitions.pop(partition, None)

    def size(self, partition: int | None = None) -> int:
        if partition is not None:
            state = self._partitions.get(partition)
            return len(state.keys) if state else 0
        return sum(len(state.keys) for state in self._partitions.values())

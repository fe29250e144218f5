"""Records faust's fetcher fetched and did not hand over are read again: the partition is sought
back to the first of them, unless the group moved on to another generation (whose assignment
seeks to the committed offsets) or the partition is no longer assigned."""

import asyncio
from dataclasses import dataclass
from typing import Any

from tickwire_signals.adapters.refetch import refetch_dropped, unhanded


@dataclass(frozen=True)
class TP:
    topic: str
    partition: int


@dataclass(frozen=True)
class Record:
    offset: int


class FakeConsumer:
    """faust's consumer as refetch sees it: a fetch, and a getmany that hands over part of it."""

    def __init__(self, records: dict[TP, list[Record]], hand_over: int, assigned: set[TP]):
        self.records, self.hand_over, self.assigned = records, hand_over, assigned
        self.sought: list[tuple[TP, int]] = []
        self.on_fetch: Any = None

    async def _wait_next_records(self, timeout: float) -> tuple[Any, Any]:
        return self.records, set(self.records)

    async def getmany(self, timeout: float):  # as faust's: fetch, then yield until it stops
        records, _active = await self._wait_next_records(timeout)
        if self.on_fetch is not None:
            self.on_fetch()
        handed = 0
        for tp, batch in records.items():
            for record in batch:
                if handed == self.hand_over:
                    return
                handed += 1
                yield tp, record

    def assignment(self) -> set[TP]:
        return self.assigned

    async def seek(self, tp: TP, offset: int) -> None:
        self.sought.append((tp, offset))


A, B, OTHER = TP("ticks", 0), TP("ticks", 1), TP("states", 0)


def fetch(consumer: FakeConsumer) -> list[tuple[TP, int]]:
    async def drain() -> list[tuple[TP, int]]:
        return [(tp, r.offset) async for tp, r in consumer.getmany(1.0)]

    return asyncio.run(drain())


def batch(first: int, last: int) -> list[Record]:
    return [Record(o) for o in range(first, last + 1)]


def test_a_fetch_handed_over_whole_seeks_nothing() -> None:
    consumer = FakeConsumer({A: batch(0, 4), B: batch(10, 12)}, hand_over=8, assigned={A, B})
    refetch_dropped(consumer, lambda: 1, "ticks")
    assert len(fetch(consumer)) == 8
    assert consumer.sought == []


def test_what_was_not_handed_over_is_read_again_from_its_first_record() -> None:
    records = {A: batch(0, 4), B: batch(10, 12), OTHER: batch(0, 3)}
    consumer = FakeConsumer(records, hand_over=3, assigned={A, B, OTHER})
    refetch_dropped(consumer, lambda: 1, "ticks")
    assert fetch(consumer) == [(A, 0), (A, 1), (A, 2)]
    # A from its 4th record, B whole; another topic's records are faust's own business.
    assert consumer.sought == [(A, 3), (B, 10)]


def test_a_partition_gone_or_a_new_generation_is_left_to_the_rebalance() -> None:
    consumer = FakeConsumer({A: batch(0, 4), B: batch(10, 12)}, hand_over=0, assigned={B})
    refetch_dropped(consumer, lambda: 1, "ticks")
    fetch(consumer)
    assert consumer.sought == [(B, 10)]

    generation = [1]
    moved = FakeConsumer({A: batch(0, 4)}, hand_over=0, assigned={A})
    moved.on_fetch = lambda: generation.__setitem__(0, 2)
    refetch_dropped(moved, lambda: generation[0], "ticks")
    fetch(moved)
    assert moved.sought == []


def test_unhanded() -> None:
    fetched = {A: (0, 4), B: (10, 12)}
    assert unhanded(fetched, {A: 4, B: 12}) == {}
    assert unhanded(fetched, {A: 2}) == {A: 3, B: 10}

"""The ticks of each fetch go to the batch handler, not to faust's streams, and each applied tick
moves faust's read position and records offset gaps the way faust's own fetch loop would."""

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from tickwire_signals.adapters.tick_feed import feed_ticks, mark_read


@dataclass(frozen=True)
class TP:
    topic: str
    partition: int


@dataclass(frozen=True)
class Message:
    tp: TP
    offset: int


class FakeConsumer:
    """faust's consumer as the feed sees it: a getmany over one fetch, a read position per
    partition and the offset gaps the committed offset may pass over."""

    def __init__(self, fetch: list[Message]) -> None:
        self.fetch = fetch
        self._read_offset: defaultdict[TP, int | None] = defaultdict(lambda: None)
        self.gaps: list[tuple[TP, int, int]] = []

    async def getmany(self, timeout: float) -> Any:
        for message in self.fetch:
            yield message.tp, message

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        self.gaps.append((tp, offset_from, offset_to))


TICKS, CHANGELOG = TP("ticks", 0), TP("state-changelog", 0)


def drain(consumer: Any) -> list[Any]:
    async def run() -> list[Any]:
        return [message async for _tp, message in consumer.getmany(1.0)]

    return asyncio.run(run())


def test_the_ticks_of_a_fetch_go_to_the_handler_as_one_batch_and_the_rest_to_faust():
    fetch = [Message(TICKS, 5), Message(CHANGELOG, 1), Message(TICKS, 6), Message(TICKS, 7)]
    consumer = FakeConsumer(fetch)
    batches: list[tuple[list[Any], int]] = []

    async def process(messages: list[Any], generation: int) -> None:
        batches.append((messages, generation))

    feed_ticks(consumer, "ticks", lambda: 3, process)
    assert drain(consumer) == [Message(CHANGELOG, 1)]
    assert batches == [([Message(TICKS, 5), Message(TICKS, 6), Message(TICKS, 7)], 3)]


def test_a_fetch_without_ticks_calls_no_handler():
    consumer = FakeConsumer([Message(CHANGELOG, 1)])
    called: list[Any] = []

    async def process(messages: list[Any], generation: int) -> None:
        called.append(messages)

    feed_ticks(consumer, "ticks", lambda: 1, process)
    assert drain(consumer) == [Message(CHANGELOG, 1)]
    assert called == []


def test_marking_read_moves_the_position_and_records_the_gaps_of_markers():
    consumer = FakeConsumer([])

    async def read(*offsets: int) -> None:
        for offset in offsets:
            await mark_read(consumer, Message(TICKS, offset))

    asyncio.run(read(10, 11, 14))
    assert consumer._read_offset[TICKS] == 14
    assert consumer.gaps == [(TICKS, 12, 14)]  # 12 and 13: a transaction's markers


def test_a_tick_behind_the_read_position_leaves_it_where_it_is():
    consumer = FakeConsumer([])
    consumer._read_offset[TICKS] = 20  # sought to 20 after the fetch

    asyncio.run(mark_read(consumer, Message(TICKS, 18)))
    assert consumer._read_offset[TICKS] == 20
    assert consumer.gaps == []

"""Puts back ticks faust fetched and let go. Its getmany drops the records it fetched for a
partition it does not count active at that moment, and stops handing records over when flow stops
or the generation changes; the consumer's position has moved past them all the same, and the next
record's offset jump is then taken for transaction markers, which the commit covers: those ticks
would be lost. After each fetch, a partition of the ticks topic still assigned in the same
generation is sought back to the first record it fetched and did not hand over."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from prometheus_client import Counter

from tickwire_signals.domain.continuity import Continuity

logger = logging.getLogger(__name__)

REFETCHED = Counter(
    "tickwire_signals_refetched_total",
    "Partitions sought back to records the fetcher fetched and did not hand over",
)


def refetch_dropped(
    consumer: Any, generation: Any, topic: str, continuity: Continuity | None = None
) -> None:
    """Wraps `consumer` (faust's) in place; `generation()` is the group's current generation.
    `continuity`, where given, learns every record fetched of `topic` and every seek."""
    plain_wait = consumer._wait_next_records
    plain_getmany = consumer.getmany
    fetched: dict[Any, tuple[int, int]] = {}  # tp -> (first, last) offset of the latest fetch

    async def wait_next_records(timeout: float) -> tuple[Any, Any]:
        records, active = await plain_wait(timeout)
        fetched.clear()
        for tp, batch in (records or {}).items():
            if tp.topic == topic and batch:
                fetched[tp] = (batch[0].offset, batch[-1].offset)
                if continuity is not None:
                    continuity.fetched(tp.partition, [record.offset for record in batch])
        return records, active

    async def getmany(timeout: float) -> AsyncIterator[tuple[Any, Any]]:
        started = generation()
        handed: dict[Any, int] = {}
        async for tp, message in plain_getmany(timeout):
            handed[tp] = message.offset
            yield tp, message
        if generation() != started:
            return  # the rebalance seeks each partition it assigns to its committed offset
        assignment = consumer.assignment()
        for tp, resume in unhanded(fetched, handed).items():
            if tp in assignment:
                REFETCHED.inc()
                logger.warning(
                    "ticks of partition %d from offset %d were fetched and not handed over; "
                    "reading them again",
                    tp.partition,
                    resume,
                )
                await consumer.seek(tp, resume)
                if continuity is not None:
                    continuity.resume_at(tp.partition, resume)

    consumer._wait_next_records = wait_next_records
    consumer.getmany = getmany


def unhanded(fetched: dict[Any, tuple[int, int]], handed: dict[Any, int]) -> dict[Any, int]:
    """Partition -> the first fetched offset not handed over, for each partition with one."""
    out = {}
    for tp, (first, last) in fetched.items():
        done = handed.get(tp)
        if done is None:
            out[tp] = first
        elif done < last:
            out[tp] = done + 1
    return out

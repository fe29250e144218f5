"""A newly assigned partition is read again from the oldest record its dedup window remembered up
to the committed offset, with nothing sent, and a batch that fails and is read again keeps that:
what the predecessor committed below the offset is never sent a second time."""

from __future__ import annotations

from confluent_kafka import TopicPartition

from tickwire_core.batch import Consumed
from tickwire_normalize.domain.dedup import DedupWindow
from tickwire_normalize.domain.validate import Limits
from tickwire_normalize.handler import NormalizeHandler
from tickwire_testing.raw import quote_raw

T0 = 1_700_000_000_000_000
COMMITTED = 10  # the predecessor committed offsets 0 to 9


class _Consumer:
    """What on_assign asks of the consumer: the committed offset, with the window's start."""

    def committed(self, partitions: list[TopicPartition], timeout: float) -> list[TopicPartition]:
        return [TopicPartition(p.topic, p.partition, COMMITTED, "dedup-from=0") for p in partitions]


def records(first: int, count: int) -> list[Consumed]:
    return [
        Consumed("p.raw", 0, offset, b"k", b"", quote_raw(offset + 1, "primary", T0 + offset))
        for offset in range(first, first + count)
    ]


def sent_offsets(handler: NormalizeHandler, batch: list[Consumed]) -> list[int]:
    outcome = handler(batch)
    return [o.value["ingest_seq"] - 1 for o in outcome.outputs if o.schema == "tick"]


def test_a_failed_batch_across_the_committed_offset_sends_only_what_is_above_it() -> None:
    handler = NormalizeHandler(
        "p.ticks", Limits(max_past_s=1e12), DedupWindow(3_600_000_000, 100_000)
    )
    assignment = [TopicPartition("p.raw", 0)]
    handler.on_assign(_Consumer(), assignment)  # type: ignore[arg-type]
    assert assignment[0].offset == 0  # read again from the window's start

    batch = records(0, 15)
    assert sent_offsets(handler, batch) == list(range(COMMITTED, 15))
    # The run loop asks where to commit, then the commit fails (a rebalance moved the group's
    # generation) and the partition is read again from the batch's first record.
    assert handler.commit_position("p.raw", 0, 15) == (15, "dedup-from=0")
    assert sent_offsets(handler, batch) == list(range(COMMITTED, 15))
    assert handler.commit_position("p.raw", 0, 15) == (15, "dedup-from=0")
    # Still re-reading: the committed offset is not moved back.
    assert handler.commit_position("p.raw", 0, 5) is None

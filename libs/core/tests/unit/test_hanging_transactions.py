"""Reading kafka-transactions' find-hanging table."""

from __future__ import annotations

import pytest

from tickwire_core.localstack.hanging import HangingTransaction, parse_find_hanging

HEADER = (
    "Topic                    \tPartition\tProducerId\tProducerEpoch\tCoordinatorEpoch\t"
    "StartOffset\tLastTimestamp\tDuration(min)\t"
)


def test_reads_each_row_of_the_table() -> None:
    output = "\n".join(
        [
            HEADER,
            "tickwire.ticks.normalized\t0        \t7         \t0            \t0               \t"
            "2106       \t1796654282463\t160          \t",
            "__consumer_offsets       \t28       \t7         \t0            \t0               \t"
            "911        \t1796654282460\t160          \t",
            "",
        ]
    )
    assert parse_find_hanging(output) == [
        HangingTransaction("tickwire.ticks.normalized", 0, 7, 0, 2106, 1796654282463),
        HangingTransaction("__consumer_offsets", 28, 7, 0, 911, 1796654282460),
    ]


def test_a_table_without_rows_is_nothing_hanging() -> None:
    assert parse_find_hanging(HEADER + "\n") == []


def test_lines_before_the_table_are_skipped() -> None:
    output = "a log line the tool printed first\n" + HEADER + "\n"
    assert parse_find_hanging(output) == []


def test_output_without_a_table_is_an_error_not_nothing_hanging() -> None:
    with pytest.raises(ValueError, match="no table"):
        parse_find_hanging("Exception in thread main: TimeoutException\n")


def test_a_row_that_does_not_read_is_an_error() -> None:
    row = "tickwire.ticks.normalized\tzero\t7\t0\t0\t2106\t1796654282463\t160\t"
    with pytest.raises(ValueError, match="unexpected find-hanging row"):
        parse_find_hanging(HEADER + "\n" + row)


def test_a_transaction_names_its_partition_and_start() -> None:
    txn = HangingTransaction("tickwire.ticks.normalized", 4, 7, 0, 1552, 0)
    assert str(txn) == "tickwire.ticks.normalized-4 from offset 1552 (producer 7, epoch 0)"

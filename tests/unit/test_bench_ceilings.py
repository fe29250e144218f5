"""Reading the figures out of Kafka's performance tools: the producer tool's final summary line
(not its progress lines) and the consumer tool's CSV, by column name."""

import pytest

from tests.unit.benchmark_modules import load_benchmark

ceiling = load_benchmark("broker_ceiling")

PRODUCER_OUTPUT = """\
416001 records sent, 83183.6 records/sec (17.93 MB/sec), 301.4 ms avg latency, 1353.0 ms max \
latency.
1000000 records sent, 83654.1 records/sec (18.03 MB/sec), 252.17 ms avg latency, 1353.00 ms max \
latency, 187 ms 50th, 690 ms 95th, 1093 ms 99th, 1303 ms 99.9th.
"""

CONSUMER_OUTPUT = """\
start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, \
rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
2026-12-07 03:41:30:123, 2026-12-07 03:41:38:400, 215.5322, 26.0398, 1000000, 120817.2, 3707, \
4569, 47.1727, 218866.3
"""


def test_the_producer_figures_come_from_the_final_line_not_a_progress_line() -> None:
    assert ceiling.parse_producer(PRODUCER_OUTPUT) == {
        "records": 1_000_000,
        "records_per_s": 83654.1,
        "mb_per_s": 18.03,
        "avg_latency_ms": 252.17,
        "max_latency_ms": 1353.0,
    }


def test_producer_output_without_a_final_line_is_an_error() -> None:
    progress_only = PRODUCER_OUTPUT.splitlines()[0]
    with pytest.raises(ValueError, match="no summary line"):
        ceiling.parse_producer(progress_only)


def test_the_consumer_rate_is_the_fetching_rate_without_the_group_join() -> None:
    assert ceiling.parse_consumer("[log line]\n" + CONSUMER_OUTPUT) == {
        "records": 1_000_000,
        "records_per_s": 218866.3,
        "mb_per_s": 47.1727,
        "rebalance_ms": 3707,
    }


def test_consumer_output_without_figures_is_an_error() -> None:
    with pytest.raises(ValueError, match="no figures"):
        ceiling.parse_consumer(CONSUMER_OUTPUT.splitlines()[0])

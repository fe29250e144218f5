"""Feed updates from written ticks: new rows counted per part, newest times, the newest gap."""

from tickwire_sink.domain.status import (
    FeedPart,
    FeedUpdate,
    SinkCounters,
    feed_parts,
    feed_updates,
    heartbeat_due,
)


def tick(instrument: str, ts: int, kind: str = "trade", **extra: object) -> dict[str, object]:
    return {
        "provider": "p",
        "instrument": instrument,
        "kind": kind,
        "exchange_ts": ts,
        "received_ts": ts + 7,
        **extra,
    }


def test_parts_split_feeds_and_their_gaps_in_batch_order() -> None:
    ticks = [tick("A", 1), tick("B", 2), tick("A", 3, "gap"), tick("A", 4)]
    assert feed_parts(ticks) == {
        FeedPart("p", "A", False): [0, 3],
        FeedPart("p", "B", False): [1],
        FeedPart("p", "A", True): [2],
    }


def test_updates_count_what_was_new_and_keep_the_newest() -> None:
    a_ticks = [tick("A", 5), tick("A", 9), tick("A", 2)]
    gaps = [
        tick("A", 3, "gap", gap_end_ts=4, gap_reason="old"),
        tick("A", 6, "gap", gap_end_ts=8, gap_reason="new"),
    ]
    updates = feed_updates(
        [
            (FeedPart("p", "A", False), a_ticks, 1),
            (FeedPart("p", "A", True), gaps, 2),
            (FeedPart("p", "B", True), [tick("B", 1, "gap")], 0),
            (FeedPart("p", "C", False), [], 0),  # every row refused: no update
        ]
    )
    assert updates == [
        FeedUpdate("p", "A", 2, 9, 16, 1, 2, 6, 8, "new"),  # first of the ticks, not the gaps
        FeedUpdate("p", "B", None, None, None, 0, 0, 1, None, None),
    ]


def test_counters_follow_failures_and_recovery() -> None:
    counters = SinkCounters()
    counters.failed("OperationalError: gone", at=42)
    assert (counters.batches_failed, counters.circuit, counters.last_error_at) == (1, "open", 42)
    counters.succeeded()
    assert (counters.circuit, counters.last_error) == ("closed", "OperationalError: gone")


def test_heartbeat_is_due_first_and_then_every_interval() -> None:
    assert heartbeat_due(100.0, None, 5.0)
    assert not heartbeat_due(104.9, 100.0, 5.0)
    assert heartbeat_due(105.0, 100.0, 5.0)

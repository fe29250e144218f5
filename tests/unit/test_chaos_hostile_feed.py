"""Where the chaos run finds its hostile records: by value in the raw topic's read-back, alike
values included, and a record delivered but never read back is a failure, named."""

from tests.unit.benchmark_modules import load_benchmark

hostile = load_benchmark("chaos_hostile")
watch = load_benchmark("chaos_watch")


def test_records_are_placed_by_value_and_the_unfound_are_failures() -> None:
    records = hostile.hostile_records(3, 30, 1_700_000_000_000_000, ["A", "B"])
    alike = [hostile.Hostile(seq, "not a record", "A", b"\x01\x00\xff") for seq in (31, 32)]
    records += alike
    # No broker: nothing is delivered, the producer only queues; the read-back is played below.
    feed = watch.HostileFeed("127.0.0.1:9", "raw", records)
    feed.send(records)
    encoded = [
        r.value if isinstance(r.value, bytes) else feed.serde.encode("raw_tick", r.value)
        for r in records
    ]
    feed.locate(0, 0, b"a real tick")  # not ours: ignored
    for offset, value in enumerate(encoded[:-2], start=1):
        feed.locate(offset % 3, offset, value)
    feed.locate(2, 99, encoded[-1])  # one of the two alike values; the other never arrives
    feed.unlocated()

    assert len(feed.sent) == len(records) - 1
    assert feed.sent[(1, 1)] == (records[0].seq, records[0].kind)
    assert sorted(seq for seq, _kind in feed.sent.values()) == sorted(
        r.seq for r in records if r.seq != 32
    )
    assert feed.failed == ["#32 (not a record): delivered, not found on the topic"]

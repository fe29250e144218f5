"""The tally of dropped copies: counted per provider, instrument and UTC day of the copy, one
record per batch that dropped any and none otherwise, and a retried batch neither loses its ticks
nor counts them as copies of themselves."""

from tickwire_core.batch import Consumed
from tickwire_core.serde import AvroSerde
from tickwire_normalize.domain.dedup import DedupWindow
from tickwire_normalize.domain.tallies import US_PER_DAY, CopyTally, copy_day
from tickwire_normalize.domain.validate import Limits
from tickwire_normalize.handler import NormalizeHandler
from tickwire_testing.raw import quote_raw

DAY = 19_700  # 2023-12-09
T0 = DAY * US_PER_DAY + 3_600_000_000  # 01:00 UTC that day


def handler(instance: str = "normalize-0") -> NormalizeHandler:
    return NormalizeHandler(
        "p.ticks",
        Limits(max_past_s=1e12),
        DedupWindow(3_600_000_000, 100_000),
        tally_topic="p.tallies",
        instance=instance,
    )


def batch(raws: list[dict], first_offset: int = 0, partition: int = 0) -> list[Consumed]:
    return [
        Consumed("p.raw", partition, first_offset + i, b"k", b"", raw) for i, raw in enumerate(raws)
    ]


def tallies(outputs) -> list:
    return [o for o in outputs if o.schema == "dedup_tally"]


def test_a_copy_counts_under_the_day_of_its_exchange_time_else_of_its_receipt() -> None:
    late_evening = DAY * US_PER_DAY + US_PER_DAY - 1
    assert copy_day({"exchange_ts": late_evening, "received_ts": late_evening + 5}) == DAY
    assert copy_day({"exchange_ts": None, "received_ts": late_evening + 5}) == DAY + 1
    assert copy_day({"received_ts": T0}) == DAY
    assert copy_day({"exchange_ts": -1, "received_ts": 0}) == -1  # before 1970: floor, not zero


def test_the_tally_adds_up_per_provider_instrument_and_day_and_encodes() -> None:
    tally = CopyTally()
    assert not tally
    for tick in [
        {"provider": "deribit", "instrument": "B", "exchange_ts": T0},
        {"provider": "deribit", "instrument": "A", "exchange_ts": T0 + US_PER_DAY},
        {"provider": "deribit", "instrument": "A", "exchange_ts": T0},
        {"provider": "deribit", "instrument": "A", "exchange_ts": T0 + 1},
        {"provider": "binance", "instrument": "A", "exchange_ts": T0},
    ]:
        tally.add(tick)
    record = tally.record("normalize-0", 42)
    assert record == {
        "instance": "normalize-0",
        "tallied_ts": 42,
        "entries": [
            {"provider": "binance", "instrument": "A", "day": DAY, "duplicates": 1},
            {"provider": "deribit", "instrument": "A", "day": DAY, "duplicates": 2},
            {"provider": "deribit", "instrument": "A", "day": DAY + 1, "duplicates": 1},
            {"provider": "deribit", "instrument": "B", "day": DAY, "duplicates": 1},
        ],
    }
    serde = AvroSerde()
    assert serde.decode("dedup_tally", serde.encode("dedup_tally", record)) == record


def test_a_batch_with_copies_publishes_one_tally_and_one_without_none() -> None:
    normalize = handler()
    primary = [quote_raw(seq, "primary", T0) for seq in range(1, 6)]
    plain = normalize(batch(primary))
    assert tallies(plain.outputs) == [] and len(plain.outputs) == 5

    replica = [quote_raw(seq, "replica", T0) for seq in (2, 3, 4)]
    fresh = [quote_raw(seq, "replica", T0, "SIM-B") for seq in (1, 2)]
    outcome = normalize(batch([*replica, *fresh], first_offset=5))
    [tally] = tallies(outcome.outputs)
    assert (tally.topic, tally.key) == ("p.tallies", b"normalize-0")
    assert tally.value["instance"] == "normalize-0"
    assert tally.value["entries"] == [
        {"provider": "simulator", "instrument": "SIM-A", "day": DAY, "duplicates": 3}
    ]
    assert [o.value["instrument"] for o in outcome.outputs if o.schema == "tick"] == [
        "SIM-B",
        "SIM-B",
    ]


def test_copies_within_one_batch_are_tallied_in_its_one_record() -> None:
    normalize = handler()
    raws = [quote_raw(1, "primary", T0), quote_raw(1, "replica", T0), quote_raw(1, "replica", T0)]
    raws.append(quote_raw(7, "replica", T0 + US_PER_DAY))
    raws.append(quote_raw(7, "primary", T0 + US_PER_DAY))
    [tally] = tallies(normalize(batch(raws)).outputs)
    assert [(e["day"], e["duplicates"]) for e in tally.value["entries"]] == [(DAY, 2), (DAY + 1, 1)]


def test_a_retried_batch_keeps_its_ticks_and_counts_its_copies_once() -> None:
    normalize = handler()
    normalize(batch([quote_raw(1, "primary", T0)]))
    retried = batch(
        [quote_raw(2, "primary", T0), quote_raw(1, "replica", T0), quote_raw(2, "replica", T0)], 1
    )
    first = normalize(retried)
    again = normalize(retried)  # the first attempt's transaction aborted; the batch comes again
    for outcome in (first, again):
        assert [o.value["venue_seq"] for o in outcome.outputs if o.schema == "tick"] == [2]
        [tally] = tallies(outcome.outputs)
        assert tally.value["entries"][0]["duplicates"] == 2
    following = normalize(batch([quote_raw(3, "primary", T0), quote_raw(3, "replica", T0)], 4))
    assert [o.value["venue_seq"] for o in following.outputs if o.schema == "tick"] == [3]

"""The chaos run's verdicts: lost, duplicated and unexpected ticks against the reference; hostile
records without a dead letter or stored as ticks; the age of the newest queryable tick through a
database outage; recovery after each fault (until a tick received after it is queryable); and
the hostile records themselves (seeded, each of them refused by normalize's own handler)."""

import json
from collections import Counter

from tests.unit.benchmark_modules import load_benchmark

checks = load_benchmark("chaos_checks")
hostile = load_benchmark("chaos_hostile")
reference = load_benchmark("chaos_reference")


def tick(seq: int, ts: int) -> dict:
    return {
        "provider": "simulator",
        "instrument": "A",
        "kind": "quote",
        "dedup_key": f"s:{seq}",
        "exchange_ts": ts,
    }


def test_a_tick_is_named_by_its_natural_key() -> None:
    assert checks.tick_identity(tick(3, 1_000)) == "simulator|A|quote|s:3|1000"


def test_lost_duplicated_and_unexpected_ticks_are_each_named() -> None:
    expected = Counter(checks.tick_identity(tick(s, s)) for s in (1, 2, 3))
    stored = Counter(checks.tick_identity(tick(s, s)) for s in (1, 1, 3, 9))
    result = checks.compare_ticks(expected, stored)
    assert not result.ok
    assert result.lost == ["simulator|A|quote|s:2|2"]
    assert result.duplicated == ["simulator|A|quote|s:1|1"]
    assert result.unexpected == ["simulator|A|quote|s:9|9"]
    assert (result.expected, result.stored) == (3, 4)
    assert checks.compare_ticks(expected, expected).ok


def test_a_sequence_stored_under_two_exchange_times_is_named_as_reused() -> None:
    stored = Counter(checks.tick_identity(tick(s, ts)) for s, ts in ((1, 10), (2, 20), (1, 99)))
    hashed = {**tick(3, 5), "dedup_key": "h:ab"}
    stored.update(
        [checks.tick_identity(hashed), checks.tick_identity({**hashed, "exchange_ts": 6})]
    )
    assert checks.reused_sequences(stored) == ["simulator|A|quote|s:1"]


def test_hostile_records_need_a_dead_letter_with_a_reason_and_no_tick() -> None:
    sent = {(0, 10): (1, "NaN"), (1, 4): (2, "huge frame"), (2, 7): (3, "far past")}
    dead = {(0, 10): "non_finite", (1, 4): "", (2, 7): "timestamp_out_of_range"}
    result = checks.check_hostile(sent, dead, [3])
    assert not result.ok
    assert result.missing == ["#2 (huge frame) at partition 1 offset 4"]
    assert result.leaked == ["#3 (far past)"]
    assert result.reasons == Counter({"non_finite": 1, "timestamp_out_of_range": 1})
    assert checks.check_hostile(sent, {**dead, (1, 4): "undecodable_payload"}, []).ok
    assert not checks.check_hostile({}, {}, []).ok, "a run that sent none proved nothing"


def test_the_newest_tick_keeps_ageing_while_the_database_does_not_answer() -> None:
    samples = [(10.0, 9.5), (11.0, 10.6), (12.0, None), (13.0, None), (14.0, 13.9)]
    assert checks.ages(samples) == [
        (10.0, 0.5),
        (11.0, 0.40000000000000036),
        (12.0, 1.4000000000000004),
        (13.0, 2.4000000000000004),
        (14.0, 0.09999999999999964),
    ]
    assert checks.ages([(1.0, None)]) == []


def test_recovery_lasts_until_a_tick_received_after_the_fault_is_queryable() -> None:
    samples = [(10.0, 9.0), (11.0, None), (12.0, 9.5), (14.0, 12.5), (20.0, 19.0), (30.0, 19.0)]
    found = checks.recoveries([("db", 11.0), ("kill", 19.5), ("db", 12.0)], samples)
    assert found == {"db": [3.0, 2.0], "kill": [None]}
    assert checks.describe_recovery([4.0, None]) == (
        "median 4.0 s, worst 4.0 s (2 faults); 1 never recovered"
    )


def test_memory_growth_compares_the_first_and_last_stretch() -> None:
    samples = [(0.0, 100.0), (30.0, 120.0), (100.0, 150.0), (170.0, 300.0), (200.0, 280.0)]
    assert checks.memory_growth(samples, 60.0) == (120.0, 300.0)


def test_the_hostile_records_are_seeded_and_cover_every_kind() -> None:
    one = hostile.hostile_records(5, 60, 1_800_000_000_000_000, ["A", "B"])
    assert one == hostile.hostile_records(5, 60, 1_800_000_000_000_000, ["A", "B"])
    assert one != hostile.hostile_records(6, 60, 1_800_000_000_000_000, ["A", "B"])
    assert {h.kind for h in one} == set(hostile.KINDS)
    assert [h.seq for h in one] == list(range(1, 61))


def consumed(records: list) -> list:
    """The hostile records that are Avro records, as normalize's handler takes them (the others
    the run loop refuses before any handler)."""
    from tickwire_core.batch import Consumed
    from tickwire_core.serde import AvroSerde

    serde = AvroSerde()
    batch = []
    for n, record in enumerate(records):
        if isinstance(record.value, bytes):
            continue
        encoded = serde.encode("raw_tick", record.value)
        batch.append(Consumed("raw", 0, n, None, encoded, serde.decode("raw_tick", encoded)))
    return batch


def test_normalizes_own_handler_refuses_every_hostile_record() -> None:
    batch = consumed(hostile.hostile_records(2, 150, 1_800_000_000_000_000, ["A"]))
    outcome = reference._handler()(batch)
    assert [o for o in outcome.outputs if o.schema == "tick"] == []
    assert sorted(r.offset for r in outcome.rejects) == [c.offset for c in batch]


def test_a_name_too_long_is_refused_for_it_and_left_out_of_its_reject() -> None:
    from tickwire_normalize.domain.reasons import NAME_TOO_LONG
    from tickwire_normalize.domain.validate import MAX_NAME_BYTES

    records = hostile.hostile_records(4, 320, 1_800_000_000_000_000, ["A"])
    batch = consumed([r for r in records if r.kind == "name too long"])
    bodies = [json.loads(c.value["payload"]) for c in batch]
    names = [b["instrument"] if b["type"] == "quote" else b["trade_id"] for b in bodies]
    assert len(batch) == 20 and {b["type"] for b in bodies} == {"quote", "trade"}
    assert min(map(len, names)) > MAX_NAME_BYTES and max(map(len, names)) > 2_704  # an index row
    outcome = reference._handler()(batch)
    assert [o for o in outcome.outputs if o.schema == "tick"] == []
    assert [(r.offset, r.reason) for r in outcome.rejects] == [
        (c.offset, NAME_TOO_LONG) for c in batch
    ]
    # Stored as rejects, they must not carry the name their table could not index either.
    assert {r.instrument for r in outcome.rejects} <= {None, "A"}

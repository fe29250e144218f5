"""Counting what became of a backfill's records: stored, already present (there before the run
published them), rejected by reason (a dead letter names the record's position), pending."""

from __future__ import annotations

from tickwire_ingest.domain.history.tally import Expected, Ledger, settle


def bar(n: int) -> tuple[str, ...]:
    return ("bar", "yahoo", "AAPL", "1d", "yahoo", str(n))


def at(offset: int) -> tuple[str, int, int]:
    return ("raw", 0, offset)


def test_each_record_is_stored_present_rejected_or_pending() -> None:
    records = [Expected(at(n), (bar(n),)) for n in range(5)]
    tally = settle(
        records,
        before={bar(0)},
        present_now={bar(0), bar(1)},
        rejects={at(2): ["bar_high_below_open"], at(3): ["bar_off_grid"]},
        fetched=6,
    )
    assert tally.as_dict() == {
        "fetched": 6,
        "published": 5,
        "stored": 1,
        "already_present": 1,
        "repeated": 0,
        "rejected": {"bar_high_below_open": 1, "bar_off_grid": 1},
        "pending": 1,  # bar 4: neither stored nor dead-lettered yet
    }


def test_a_record_the_mapping_refuses_is_pending_until_its_dead_letter_arrives() -> None:
    records = [Expected(at(0), (), refused="not_a_number")]
    assert settle(records, set(), set(), {}, 1).pending == 1
    done = settle(records, set(), set(), {at(0): ["not_a_number"]}, 1)
    assert (done.pending, dict(done.rejected)) == (0, {"not_a_number": 1})


def test_a_record_that_maps_to_nothing_is_dealt_with_at_once() -> None:
    assert settle([Expected(at(0), ())], set(), set(), {}, 1).pending == 0


def test_one_dead_letter_reason_per_record_even_if_two_services_rejected_it() -> None:
    tally = settle([Expected(at(0), (bar(0),))], set(), set(), {at(0): ["b", "a", "a"]}, 1)
    assert dict(tally.rejected) == {"a": 1}


def test_the_ledger_looks_up_a_row_once_and_counts_a_vendor_repeat() -> None:
    ledger = Ledger()
    assert ledger.new_keys([bar(0), bar(1)]) == [bar(0), bar(1)]
    ledger.existed({bar(0)})
    ledger.published([Expected(at(0), (bar(0),)), Expected(at(1), (bar(1),))])
    # The next page repeats bar 1 (the vendor sent it twice) and adds bar 2.
    assert ledger.new_keys([bar(1), bar(2)]) == [bar(2)]
    ledger.published([Expected(at(2), (bar(1),)), Expected(at(3), (bar(2),))])
    assert sorted(ledger.awaited()) == [bar(1), bar(2)]
    tally = ledger.tally({bar(1), bar(2)}, {}, fetched=4)
    assert (tally.stored, tally.already_present, tally.repeated, tally.pending) == (2, 1, 1, 0)

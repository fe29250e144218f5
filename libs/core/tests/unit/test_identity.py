"""The dedup key of a tick, as normalize stamps it and the sink stores it. The literal keys are
the ones ticks already stored carry: a change here would store a redelivered tick twice."""

from tickwire_core.identity import dedup_key, stored_dedup_key

QUOTE = {
    "provider": "binance",
    "instrument": "BTC-USDT",
    "kind": "quote",
    "exchange_ts": 1_700_000_000_000_000,
    "received_ts": 1_700_000_000_001_000,
    "ingest_instance": "ingest-a",
    "ingest_seq": 7,
    "bid_price": 65000.5,
    "ask_price": 65001.0,
    "bid_size": 1.25,
    "ask_size": None,
    "trade_id": None,
    "venue_seq": None,
}
GAP = {
    "provider": "sim",
    "instrument": "",
    "kind": "gap",
    "exchange_ts": 1_700_000_000_000_000,
    "gap_end_ts": 1_700_000_005_000_000,
    "gap_reason": "reconnect",
    "received_ts": 1_700_000_005_000_001,
    "ingest_instance": "ingest-b",
    "ingest_seq": 3,
}


def test_keys_are_the_ones_already_stored() -> None:
    assert dedup_key(QUOTE) == "h:f86afcc7ad0c55ddd4f43954ebb9ac07"
    assert dedup_key(QUOTE, exchange_ts_is_identity=False) == "h:71eb33008d0b93dc0d27d97ac944bc63"
    assert dedup_key({**QUOTE, "trade_id": "T-991", "venue_seq": 12}) == "t:T-991"
    assert dedup_key({**QUOTE, "venue_seq": 0}) == "s:0"
    assert dedup_key(GAP) == "g:ingest-b:reconnect:1700000000000000:1700000005000000"


def test_copies_from_another_instance_share_a_key_different_values_do_not() -> None:
    replica = {**QUOTE, "received_ts": 99, "ingest_instance": "replica", "ingest_seq": 77}
    assert dedup_key(replica) == dedup_key(QUOTE)
    assert dedup_key({**QUOTE, "bid_price": 1.5}) != dedup_key(QUOTE)
    later = {**QUOTE, "exchange_ts": QUOTE["exchange_ts"] + 1}
    assert dedup_key(later) != dedup_key(QUOTE)
    assert dedup_key(later, exchange_ts_is_identity=False) == dedup_key(
        QUOTE, exchange_ts_is_identity=False
    )


def test_the_stored_key_is_the_ticks_own_else_computed() -> None:
    assert stored_dedup_key({**QUOTE, "dedup_key": "s:42"}) == "s:42"
    assert stored_dedup_key({**QUOTE, "dedup_key": None}) == "h:f86afcc7ad0c55ddd4f43954ebb9ac07"
    assert stored_dedup_key(QUOTE) == "h:f86afcc7ad0c55ddd4f43954ebb9ac07"

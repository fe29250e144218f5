from tickwire_core.serde import AvroSerde
from tickwire_sink.domain.rows import dedup_key, tick_columns

BASE = {
    "provider": "simulator",
    "instrument": "X",
    "kind": "quote",
    "exchange_ts": 1,
    "received_ts": 2,
    "bid_price": 1.0,
    "ask_price": 2.0,
    "ingest_instance": "primary",
    "ingest_seq": 5,
}


def test_trade_id_then_venue_sequence_then_content() -> None:
    assert dedup_key({**BASE, "trade_id": "T1", "venue_seq": 3}) == "t:T1"
    assert dedup_key({**BASE, "venue_seq": 3}) == "s:3"
    assert dedup_key(BASE).startswith("h:")


def test_primary_and_replica_copies_share_a_key_different_values_do_not() -> None:
    replica = {**BASE, "received_ts": 99, "ingest_instance": "replica", "ingest_seq": 77}
    assert dedup_key(replica) == dedup_key(BASE)
    assert dedup_key({**BASE, "bid_price": 1.5}) != dedup_key(BASE)


def test_columns_follow_the_tick_schema_without_the_time_columns() -> None:
    fields = [f["name"] for f in AvroSerde().schema("tick")["fields"]]
    columns = tick_columns(fields)
    assert columns[:3] == ["provider", "instrument", "kind"]
    assert "exchange_ts" not in columns and "received_ts" not in columns
    assert "dedup_key" not in columns  # staged first, from the tick or computed
    assert len(columns) == len(fields) - 3


def test_a_key_set_by_normalize_wins() -> None:
    assert dedup_key({**BASE, "dedup_key": "s:42"}) == "s:42"

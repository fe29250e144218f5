"""Every schema parses and the tick schema carries what the issue of the unified tick lists."""

import json

from tickwire_core.serde import AvroSerde, default_schema_dir
from tickwire_core.topics import load_topics

TICK_VALUE_FIELDS = [
    "bid_price",
    "bid_amount",
    "ask_price",
    "ask_amount",
    "last_traded_price",
    "last_traded_volume",
    "incremental_trading_volume",
    "day_open_mid",
    "day_net_change_mid",
    "day_percent_change_mid",
    "day_high",
    "day_low",
    "index_price",
    "order_book_state",
    "mark_price",
    "mark_implied_volatility",
    "bid_implied_volatility",
    "ask_implied_volatility",
    "min_price",
    "max_price",
    "settlement_price",
    "estimated_delivery_price",
    "delivery_price",
    "underlying_index",
    "underlying_price",
    "current_funding",
    "funding_8h",
    "open_interest",
    "volume_24h",
    "volume_usd_24h",
    "price_percent_change_24h",
    "high_24h",
    "low_24h",
    "delta",
    "gamma",
    "vega",
    "theta",
    "rho",
    "interest_rate",
    "trade_id",
    "side",
    "venue_seq",
]


def test_every_schema_file_parses() -> None:
    files = sorted(p.stem for p in default_schema_dir().glob("*.avsc"))
    assert files == [
        "anomaly",
        "bar",
        "dead_letter",
        "dedup_tally",
        "heartbeat",
        "raw_tick",
        "short_interest",
        "short_volume",
        "signal",
        "tick",
    ]
    assert AvroSerde().names == files


def test_tick_identity_and_time_are_required_and_every_value_optional() -> None:
    fields = {
        f["name"]: f for f in json.loads((default_schema_dir() / "tick.avsc").read_text())["fields"]
    }
    for name in ("provider", "instrument", "kind", "exchange_ts", "received_ts"):
        assert "default" not in fields[name], name
    for name in ("exchange_ts", "received_ts"):
        assert fields[name]["type"] == {"type": "long", "logicalType": "timestamp-micros"}
    for name in TICK_VALUE_FIELDS:
        assert fields[name]["type"][0] == "null" and fields[name]["default"] is None, name


def test_raw_tick_envelope_fields() -> None:
    fields = [f["name"] for f in AvroSerde().schema("raw_tick")["fields"]]
    for name in (
        "provider",
        "feed",
        "ingest_instance",
        "instrument",
        "received_ts",
        "ingest_seq",
        "payload",
    ):
        assert name in fields


def test_topic_table_names_existing_schemas_and_copartitions_tick_topics() -> None:
    topics = load_topics()
    names = AvroSerde().names
    assert {t.value_schema for t in topics} <= set(names)
    keyed = [t for t in topics if t.key == "provider|instrument"]
    assert len({t.partitions for t in keyed}) == 1
    assert len({t.name for t in topics}) == len(topics)

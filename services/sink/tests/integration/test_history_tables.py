"""What backfills send the sink: vendor bars beside computed bars of the same key, FINRA's short
volume and short interest with their dates as dates, and backfilled ticks; each stored once
however often delivered, a row the database refuses set aside, and the live feed's status left
alone by history."""

import datetime as dt

import psycopg
import pytest

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import BARS, DEAD_LETTER, SHORT_INTEREST, SHORT_VOLUME, TICKS, tick_key
from tickwire_sink.app import bootstrap
from tickwire_sink.settings import SinkSettings
from tickwire_testing.kafka import decode_all, produce, read_topic
from tickwire_testing.loops import running
from tickwire_testing.ticks import trade

from .test_sink_tables import wait_rows

pytestmark = pytest.mark.integration

DAY_US = 86_400_000_000
TRADE_DATE = 19_723  # 2024-01-01 as days since 1970-01-01
T0 = TRADE_DATE * DAY_US


def bar(source: str, **over: object) -> dict:
    return {
        "provider": "binance",
        "instrument": "BTC-USDT",
        "interval": "1m",
        "start_ts": T0,
        "open": 10.0,
        "high": 12.0,
        "low": 9.5,
        "close": 11.0,
        "volume": 3.0,
        "tick_count": 0 if source == "binance" else 3,
        "source": source,
    } | over


def short_volume(**over: object) -> dict:
    return {
        "provider": "finra",
        "instrument": "BRK-B",
        "facility": "CNMS",
        "trade_date": TRADE_DATE,
        "short_volume": 1234.5,
        "short_exempt_volume": None,
        "total_volume": 4000.0,
        "market": "B,Q,N",
        "received_ts": T0 + 400 * DAY_US,
    } | over


SHORT_INTEREST_ROW = {
    "provider": "finra",
    "instrument": "BRK-B",
    "settlement_date": TRADE_DATE + 14,
    "short_interest": 5_000_000.0,
    "previous_short_interest": 4_500_000.0,
    "average_daily_volume": 2_500_000.0,
    "days_to_cover": 2.0,
    "market": "NYSE",
    "received_ts": T0 + 400 * DAY_US,
}


def test_history_records_are_stored_once_beside_live_ones(
    stack, topic_prefix, database_url
) -> None:
    serde = AvroSerde()
    servers = stack.kafka_bootstrap_servers
    key = tick_key("binance", "BTC-USDT")
    vendor = bar("binance", adj_close=None)
    computed = bar("trade", high=12.5)
    refused = short_volume(instrument="NEG", short_volume=-1.0)  # the table's check refuses it
    old_trade = trade("BTC-USDT", T0 + 5, 10.0, 1.0, provider="binance") | {"history": True}
    for _ in range(2):  # everything delivered twice
        produce(
            servers,
            topic_prefix + BARS,
            [(key, serde.encode("bar", b)) for b in (vendor, computed)],
        )
        produce(
            servers,
            topic_prefix + SHORT_VOLUME,
            [(b"finra|BRK-B", serde.encode("short_volume", r)) for r in (short_volume(), refused)],
        )
        produce(
            servers,
            topic_prefix + SHORT_INTEREST,
            [(b"finra|BRK-B", serde.encode("short_interest", SHORT_INTEREST_ROW))],
        )
        produce(servers, topic_prefix + TICKS, [(key, serde.encode("tick", old_trade))])

    settings = SinkSettings(
        KAFKA_BOOTSTRAP_SERVERS=servers,
        DATABASE_URL=database_url,
        topic_prefix=topic_prefix,
        consumer_group=f"{topic_prefix}sink",
        batch_size=500,
    )
    want = {"bars": 2, "short_volume": 1, "short_interest": 1, "ticks": 1, "rejects": 2}
    with running(lambda health, stop: bootstrap(settings, health, stop)):
        got = wait_rows(database_url, want)
    assert got == want

    with psycopg.connect(database_url) as conn:
        bars = conn.execute(
            "SELECT source, high, tick_count, adj_close FROM bars ORDER BY source"
        ).fetchall()
        volume = conn.execute(
            "SELECT instrument, facility, trade_date, short_volume, short_exempt_volume, "
            "total_volume, market FROM short_volume"
        ).fetchone()
        interest = conn.execute(
            "SELECT settlement_date, short_interest, days_to_cover FROM short_interest"
        ).fetchone()
        tick = conn.execute("SELECT history FROM ticks").fetchone()
        feeds = conn.execute("SELECT count(*) FROM feed_status").fetchone()
    assert bars == [("binance", 12.0, 0, None), ("trade", 12.5, 3, None)]
    assert volume == ("BRK-B", "CNMS", dt.date(2024, 1, 1), 1234.5, None, 4000.0, "B,Q,N")
    assert interest == (dt.date(2024, 1, 15), 5_000_000.0, 2.0)
    assert tick == (True,)
    assert feeds == (0,), "a backfilled tick says nothing of the live feed"

    dead = decode_all(
        serde, "dead_letter", read_topic(servers, topic_prefix + DEAD_LETTER, expect=2)
    )
    assert {d["reason"] for d in dead} == {"db_refused"}
    assert all("short_volume_sizes_valid" in d["message"] for d in dead)
    assert {serde.decode("short_volume", d["payload"])["instrument"] for d in dead} == {"NEG"}

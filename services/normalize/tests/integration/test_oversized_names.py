"""Raw records naming an instrument or trade longer than any venue does, through the real
normalize and sink: each becomes one dead letter, stored as a reject, and the sink goes on storing
the ticks behind them (a name past PostgreSQL's index row size would otherwise stall its insert)."""

import json
import time
from collections import Counter

import psycopg
import pytest

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import RAW_TICKS, tick_key
from tickwire_ingest.domain.raw import Envelope
from tickwire_normalize.app import bootstrap as normalize_service
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.validate import MAX_NAME_BYTES
from tickwire_normalize.settings import NormalizeSettings
from tickwire_sink.app import bootstrap as sink_service
from tickwire_sink.settings import SinkSettings
from tickwire_testing.kafka import produce
from tickwire_testing.loops import running
from tickwire_testing.raw import quote_raw
from tickwire_testing.ticks import incompressible_name

pytestmark = pytest.mark.integration

T0 = int(time.time() * 1e6) - 60_000_000  # a minute ago: inside normalize's time limits
GOOD = 40


def trade_raw(instrument: str, trade_id: str, ts: int) -> dict:
    payload = {
        "type": "trade",
        "instrument": instrument,
        "ts": ts,
        "seq": 1,
        "trade_id": trade_id,
        "price": "100",
        "size": "1",
        "side": "buy",
    }
    return Envelope("simulator", "primary").wrap(
        "trades", instrument, json.dumps(payload).encode(), ts + 500
    )


def rows(database_url: str, query: str) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query).fetchall()


def test_names_longer_than_the_limit_are_dead_letters_and_the_sink_goes_on(
    stack, topic_prefix, database_url
) -> None:
    serde = AvroSerde()
    hostile = [
        quote_raw(1, "primary", T0, instrument=incompressible_name(10_000, 1)),  # 10 kB
        quote_raw(1, "primary", T0, instrument=incompressible_name(2_700, 2)),  # index row limit
        quote_raw(1, "primary", T0, instrument=incompressible_name(MAX_NAME_BYTES + 1, 3)),
        trade_raw("SIM-A", incompressible_name(10_000, 4), T0),
    ]
    good = [quote_raw(seq, "primary", T0 + seq) for seq in range(1, GOOD + 1)]
    # The hostile records first: every good tick is behind one of them in the sink's batches.
    records = [*hostile[:2], *good[: GOOD // 2], *hostile[2:], *good[GOOD // 2 :]]
    produce(
        stack.kafka_bootstrap_servers,
        topic_prefix + RAW_TICKS,
        [(tick_key("simulator", "SIM-A"), serde.encode("raw_tick", r)) for r in records],
    )
    normalize = NormalizeSettings(
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers,
        topic_prefix=topic_prefix,
        consumer_group=f"{topic_prefix}norm",
    )
    sink = SinkSettings(
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers,
        DATABASE_URL=database_url,
        topic_prefix=topic_prefix,
        consumer_group=f"{topic_prefix}sink",
        batch_size=10,
    )
    with (
        running(lambda health, stop: normalize_service(normalize, health, stop)),
        running(lambda health, stop: sink_service(sink, health, stop)),
    ):
        deadline = time.monotonic() + 90
        stored: list[tuple] = []
        refused: list[tuple] = []
        while time.monotonic() < deadline and (len(stored) < GOOD or len(refused) < 4):
            time.sleep(0.5)
            stored = rows(database_url, "SELECT instrument, dedup_key FROM ticks")
            refused = rows(
                database_url,
                "SELECT reason, message, provider, instrument FROM rejects "
                "WHERE service = 'normalize'",
            )
    assert sorted(stored) == sorted(("SIM-A", f"s:{seq}") for seq in range(1, GOOD + 1))
    assert [r[0] for r in refused] == [reasons.NAME_TOO_LONG] * 4, refused
    messages = sorted(r[1] for r in refused)
    assert messages == sorted(
        [
            f"instrument of 10000 bytes, above the limit of {MAX_NAME_BYTES}",
            f"instrument of 2700 bytes, above the limit of {MAX_NAME_BYTES}",
            f"instrument of {MAX_NAME_BYTES + 1} bytes, above the limit of {MAX_NAME_BYTES}",
            f"trade_id of 10000 bytes, above the limit of {MAX_NAME_BYTES}",
        ]
    )
    # A reject names what it was about only where that name fits: the trade's instrument.
    assert Counter((r[2], r[3]) for r in refused) == {
        ("simulator", None): 3,
        ("simulator", "SIM-A"): 1,
    }

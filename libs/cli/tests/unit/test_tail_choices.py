"""What `tickwire tail` makes of what a person types (topic names, start positions) and how it
prints bytes and picks records, without a broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tickwire_cli.context import Env
from tickwire_cli.decoding import matches, plain, plain_bytes
from tickwire_cli.errors import UsageError
from tickwire_cli.reading import Start, parse_start, resolve_topic
from tickwire_core.topics import DEAD_LETTER, RAW_TICKS, STATUS, TICKS, load_topics

ENV = Env("127.0.0.1:1", "postgresql://nobody@127.0.0.1:1/none", topic_prefix="dev.")
TABLE = {t.name: t for t in load_topics()}


@pytest.mark.parametrize(
    ("given", "table_name"),
    [
        ("raw", RAW_TICKS),
        ("ticks", TICKS),
        ("bars", "tickwire.bars"),
        ("anomalies", "tickwire.anomalies"),
        ("signals", "tickwire.signals"),
        ("deadletter", DEAD_LETTER),
        ("status", STATUS),
        (TICKS, TICKS),
        ("dev." + TICKS, TICKS),
    ],
)
def test_short_full_and_prefixed_names_name_one_topic(given: str, table_name: str) -> None:
    chosen = resolve_topic(ENV, given)
    assert (chosen.topic.name, chosen.name) == (table_name, "dev." + table_name)


def test_an_unknown_topic_names_the_valid_ones() -> None:
    with pytest.raises(UsageError) as raised:
        resolve_topic(ENV, "tickz")
    assert raised.value.message == (
        "unknown topic 'tickz'; valid: raw, ticks, bars, anomalies, signals, short_volume, "
        "short_interest, deadletter, status, dedup_tallies (or their full names)"
    )


def test_start_positions() -> None:
    assert parse_start("earliest") == Start("earliest")
    assert parse_start("latest") == Start("latest")
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_start("2026-03-01T12:00:00Z") == Start("time", at)
    assert parse_start("2026-03-01T12:00:00") == Start("time", at)  # no zone: UTC
    paris = parse_start("2026-03-01T13:00:00+01:00").at
    assert paris == at and paris.utcoffset() == timedelta(hours=1)
    assert parse_start("2026-03-01").at == datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(UsageError, match="neither earliest, latest nor an ISO time"):
        parse_start("yesterday")


def test_bytes_print_as_text_when_they_are_text_else_base64() -> None:
    assert plain_bytes(b'{"bid":"1"}') == '{"bid":"1"}'
    assert plain_bytes(b"\xff\x00") == {"base64": "/wA="}
    assert plain_bytes(None) is None
    assert plain({"a": [b"x", {"b": b"\xff"}], "n": 1}) == {
        "a": ["x", {"b": {"base64": "/w=="}}],
        "n": 1,
    }


def test_filters_use_fields_then_the_provider_instrument_key() -> None:
    ticks, status, dead = TABLE[TICKS], TABLE[STATUS], TABLE[DEAD_LETTER]
    tick_line = {
        "key": "deribit|BTC-PERPETUAL",
        "value": {"provider": "deribit", "instrument": "BTC-USD-PERP", "venue_instrument": "x"},
    }
    assert matches(tick_line, ticks, "deribit", None)
    assert matches(tick_line, ticks, None, "BTC-USD-PERP")
    assert matches(tick_line, ticks, None, "x")
    assert matches(tick_line, ticks, None, "BTC-PERPETUAL")  # the key's instrument
    assert not matches(tick_line, ticks, "binance", None)
    assert not matches(tick_line, ticks, "deribit", "ETH-USD-PERP")
    # A heartbeat's key is service|instance, not provider|instrument.
    beat = {"key": "normalize|n-0", "value": {"service": "normalize"}}
    assert not matches(beat, status, "normalize", None)
    assert matches(beat, status, None, None)
    letter = {
        "key": "ignored|ignored",
        "value": {
            "reason": "undecodable",
            "source": {"key": "kraken|XBT/USD"},
            "payload": "not a record",
        },
    }
    assert matches(letter, dead, "kraken", "XBT/USD")
    assert not matches(letter, dead, "ignored", None)


def test_an_offset_zone_is_kept_for_the_start_time() -> None:
    start = parse_start("2026-03-01T12:00:00-05:00")
    assert start.at == datetime(2026, 3, 1, 12, tzinfo=timezone(timedelta(hours=-5)))

"""The fields a venue sends that its mapping does not read are found from the mapping's own reads:
none in the venues' documented examples, every field added to them, nested ones by path."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tickwire_normalize.domain.reads import OTHER, UnmappedFields, unread_fields
from tickwire_normalize.domain.venues import MAPPINGS, ig

FEEDS = {
    "deribit": ["ticker"],
    "binance": ["bookTicker", "aggTrade"],
    "coinbase": ["ticker", "market_trades"],
    "kraken": ["ticker", "trade"],
}
IG_UPDATE = {
    "item": "MARKET:CS.D.EURUSD.TODAY.IP",
    "values": {"BID": "1.08501", "OFR": "1.08512", "UTM": "1700000000123", "LTV": ""},
}


def unread(provider: str, feed: str, message: Any) -> set[str]:
    return unread_fields(MAPPINGS[provider].map, feed, message, 1_700_000_000_000_000)


@pytest.mark.parametrize("venue", sorted(FEEDS))
def test_every_documented_field_is_read_or_left_out_on_purpose(venue: str, documented: Any) -> None:
    for feed, message in zip(FEEDS[venue], documented(venue), strict=True):
        assert unread(venue, feed, message) == set(), (venue, feed)


def test_a_new_field_is_found_at_its_path(documented: Any) -> None:
    ticker = copy.deepcopy(documented("deribit")[0])
    ticker["params"]["data"]["new_field"] = 1
    ticker["params"]["data"]["stats"]["volume_notional"] = 2
    ticker["params"]["data"]["new_object"] = {"a": 1, "b": 2}
    assert unread("deribit", "ticker", ticker) == {
        "params.data.new_field",
        "params.data.stats.volume_notional",
        "params.data.new_object",  # once, not per field inside
    }


def test_fields_in_lists_of_objects_are_found(documented: Any) -> None:
    frame = copy.deepcopy(documented("coinbase")[0])
    frame["events"][0]["tickers"][0]["best_bid_orders"] = "3"
    assert unread("coinbase", "ticker", frame) == {"events[].tickers[].best_bid_orders"}
    trade = {"channel": "trade", "type": "update", "data": [{"symbol": "BTC/USD", "fee": 1}]}
    trade["data"][0] |= {"price": 1.0, "qty": 1.0, "timestamp": "2023-09-25T07:48:36.9Z"}
    assert unread("kraken", "trade", trade) == {"data[].fee"}


def test_ig_values_and_simulator_messages() -> None:
    update = copy.deepcopy(IG_UPDATE)
    update["values"] |= {"MARKET_DELAY": "0", "ODDS": "2"}
    assert unread(ig.PROVIDER, "quotes", update) == {"values.ODDS"}
    quote = {"type": "quote", "instrument": "SIM-A", "ts": 1, "seq": 1, "bid": "1", "ask": "2"}
    assert unread("simulator", "quotes", quote | {"venue": "x"}) == {"venue"}


def test_a_rejected_message_counts_nothing() -> None:
    assert unread("deribit", "ticker", {"method": "heartbeat", "extra": 1}) == set()


def test_one_message_in_every_n_per_provider_is_checked() -> None:
    fields = UnmappedFields({p: m.map for p, m in MAPPINGS.items()}, every=3)
    update = copy.deepcopy(IG_UPDATE)
    update["values"]["NEW"] = "1"
    payload = json.dumps(update).encode()
    found = [fields.observe("ig", "quotes", payload, 1) for _ in range(7)]
    assert [bool(f) for f in found] == [True, False, False, True, False, False, True]
    assert fields.observe("binance", "bookTicker", b'{"s": "BTCUSDT", "x": 1}', 1) == {"x"}
    assert fields.observe("nobody", "f", b"{}", 1) == set()
    assert fields.observe("kraken", "trade", b"not json", 1) == set()
    assert fields.counts == {"ig": {"values.NEW": 3}, "binance": {"x": 1}}


def test_a_venue_sending_ever_new_fields_is_capped() -> None:
    fields = UnmappedFields({"binance": MAPPINGS["binance"].map}, every=1)
    for i in range(80):
        fields.observe("binance", "bookTicker", json.dumps({"s": "X", f"k{i}": 1}).encode(), 1)
    counted = fields.counts["binance"]
    assert len(counted) == 51 and counted[OTHER] == 30
    long = fields.observe("binance", "bookTicker", json.dumps({"s": "X", "k" * 500: 1}).encode(), 1)
    assert long == {OTHER}


def test_hostile_nesting_is_no_error() -> None:
    deep: Any = 1
    for _ in range(5000):
        deep = [deep]
    fields = UnmappedFields({"kraken": MAPPINGS["kraken"].map}, every=1)
    payload = b'{"channel": "trade", "data": ' + b"[" * 900 + b"]" * 900 + b"}"
    assert fields.observe("kraken", "trade", payload, 1) == set()
    assert (
        unread_fields(MAPPINGS["kraken"].map, "trade", {"channel": "trade", "data": deep}, 1)
        == set()
    )

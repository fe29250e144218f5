"""Every JSON venue reads its frames the same way: a frame that is not a JSON object, nested too
deep to parse, or not publishable as UTF-8 is malformed, never an exception of the session."""

import pytest

from tickwire_ingest.domain.protocol import Inbound, Venue, json_object
from tickwire_ingest.domain.venues.binance import BinanceVenue
from tickwire_ingest.domain.venues.coinbase import CoinbaseVenue
from tickwire_ingest.domain.venues.deribit import DeribitVenue
from tickwire_ingest.domain.venues.kraken import KrakenVenue

T0 = 1_700_000_000_000_000
VENUES: dict[str, Venue] = {
    "binance": BinanceVenue(("BNBUSDT",)),
    "coinbase": CoinbaseVenue("ws://127.0.0.1:9", ("BTC-USD",), ("ticker",)),
    "deribit": DeribitVenue(("BTC-PERPETUAL",)),
    "kraken": KrakenVenue("ws://127.0.0.1:9", ("ALGO/USD",), ("ticker",)),
}
MALFORMED = {
    "not JSON": ["{oops", "", "\ud800"],  # the last: a lone surrogate, no UTF-8 for it
    "not a JSON object": ["[1, 2]", '"text"', "3"],
}
DEEP = "[" * 100_000 + "]" * 100_000


def test_an_object_is_read_with_the_bytes_to_publish() -> None:
    assert json_object('{"a": [1, "é"]}') == ({"a": [1, "é"]}, '{"a": [1, "é"]}'.encode())


@pytest.mark.parametrize(("reason", "text"), [(r, t) for r, ts in MALFORMED.items() for t in ts])
def test_anything_else_is_malformed_with_the_reason(reason: str, text: str) -> None:
    assert json_object(text) == Inbound(malformed=reason)


def test_nesting_too_deep_to_parse_is_malformed() -> None:
    assert json_object(DEEP) == Inbound(malformed="not JSON")


@pytest.mark.parametrize("name", sorted(VENUES))
@pytest.mark.parametrize("text", [DEEP, "\ud800", "[1, 2]"], ids=["deep", "surrogate", "list"])
def test_each_venue_session_counts_such_frames_as_malformed(name: str, text: str) -> None:
    venue = VENUES[name]
    session = venue.session(venue.plan()[0])
    inbound = session.on_frame(text, T0)
    assert inbound.malformed is not None
    assert inbound.messages == [] and inbound.gaps == []

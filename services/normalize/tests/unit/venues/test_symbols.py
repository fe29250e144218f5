from __future__ import annotations

from datetime import date

import pytest

from tickwire_normalize.domain import symbols
from tickwire_normalize.domain.venues import MAPPINGS


@pytest.mark.parametrize(
    ("provider", "venue_name", "unified"),
    [
        # Deribit: inverse contracts are quoted in USD, linear ones name their quote.
        ("deribit", "BTC-PERPETUAL", "BTC-USD-PERP"),
        ("deribit", "ETH-PERPETUAL", "ETH-USD-PERP"),
        ("deribit", "BTC_USDC-PERPETUAL", "BTC-USDC-PERP"),
        ("deribit", "SOL_USDC-PERPETUAL", "SOL-USDC-PERP"),
        ("deribit", "BTC-27DEC24", "BTC-USD-20241227"),
        ("deribit", "ETH-1JUN21", "ETH-USD-20210601"),
        ("deribit", "BTC-27DEC24-100000-C", "BTC-USD-20241227-100000-C"),
        ("deribit", "BTC-4JUN21-36500-P", "BTC-USD-20210604-36500-P"),
        ("deribit", "XRP_USDC-30MAY25-2d2-C", "XRP-USDC-20250530-2.2-C"),
        ("deribit", "BTC_USDC", "BTC-USDC"),
        ("deribit", "BTC-FS-27DEC24_PERP", "BTC-FS-27DEC24_PERP"),
        ("deribit", "BTC-31FEB25", "BTC-31FEB25"),
        ("deribit", "BTC-27XYZ24", "BTC-27XYZ24"),
        ("deribit", "BTC-27DEC24-100000-X", "BTC-27DEC24-100000-X"),
        ("deribit", "BTC-27DEC24-1e5-C", "BTC-27DEC24-1e5-C"),
        ("deribit", "BTC", "BTC"),
        ("deribit", "btc-perpetual", "btc-perpetual"),
        ("deribit", "", ""),
        # Binance: the longest known quote asset that ends the name.
        ("binance", "BTCUSDT", "BTC-USDT"),
        ("binance", "BNBBTC", "BNB-BTC"),
        ("binance", "ETHFDUSD", "ETH-FDUSD"),
        ("binance", "BTCTUSD", "BTC-TUSD"),
        ("binance", "USDTTRY", "USDT-TRY"),
        ("binance", "btcusdt", "BTC-USDT"),
        ("binance", "USDT", "USDT"),
        ("binance", "BTCXYZ", "BTCXYZ"),
        ("binance", "BTC-USDT", "BTC-USDT"),
        # Coinbase product ids are BASE-QUOTE already.
        ("coinbase", "BTC-USD", "BTC-USD"),
        ("coinbase", "ETH-USDC", "ETH-USDC"),
        ("coinbase", "BIP-20DEC30-CDE", "BIP-20DEC30-CDE"),
        ("coinbase", "BTCUSD", "BTCUSD"),
        # Kraken v2 writes BASE/QUOTE.
        ("kraken", "BTC/USD", "BTC-USD"),
        ("kraken", "ALGO/USD", "ALGO-USD"),
        ("kraken", "USDT/EUR", "USDT-EUR"),
        ("kraken", "BTC/USD/X", "BTC/USD/X"),
        ("kraken", "BTCUSD", "BTCUSD"),
        # IG: currency-pair epics become pairs, every other epic stays itself.
        ("ig", "CS.D.EURUSD.TODAY.IP", "EUR-USD"),
        ("ig", "CS.D.GBPJPY.CFD.IP", "GBP-JPY"),
        ("ig", "CS.D.EURUSD.MINI.IP", "EUR-USD"),
        ("ig", "CS.D.USCGC.TODAY.IP", "CS.D.USCGC.TODAY.IP"),
        ("ig", "CS.D.ABCDEF.TODAY.IP", "CS.D.ABCDEF.TODAY.IP"),
        ("ig", "IX.D.FTSE.DAILY.IP", "IX.D.FTSE.DAILY.IP"),
        ("ig", "CS.D.EURUSD.TODAY", "CS.D.EURUSD.TODAY"),
        # The simulator's names are unified already.
        ("simulator", "SIM-BTC-USD", "SIM-BTC-USD"),
    ],
)
def test_unified_instrument_names(provider: str, venue_name: str, unified: str) -> None:
    assert MAPPINGS[provider].symbol(venue_name) == unified


@pytest.mark.parametrize(
    ("text", "expiry"),
    [
        ("27DEC24", date(2024, 12, 27)),
        ("1JUN21", date(2021, 6, 1)),
        ("29FEB24", date(2024, 2, 29)),
        ("29FEB25", None),
        ("27dec24", None),
        ("127DEC24", None),
        ("PERPETUAL", None),
    ],
)
def test_venue_expiries(text: str, expiry: date | None) -> None:
    assert symbols.venue_expiry(text) == expiry


def test_unified_name_builders() -> None:
    expiry = date(2024, 12, 27)
    assert symbols.spot("BTC", "USD") == "BTC-USD"
    assert symbols.perpetual("BTC", "USDC") == "BTC-USDC-PERP"
    assert symbols.future("ETH", "USD", expiry) == "ETH-USD-20241227"
    assert symbols.option("BTC", "USD", expiry, "100000", "P") == "BTC-USD-20241227-100000-P"

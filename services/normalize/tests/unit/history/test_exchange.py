"""The exchange history mapping (ccxt rows of Binance, Coinbase, Kraken, Deribit): a candle is a
venue bar under the live name (every field), a trade is the very tick the live mapping makes of
the same trade, and each bad row is rejected with its reason."""

from __future__ import annotations

from typing import Any

import pytest

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.history import BAR, TICK, HistoryRow, Mapped, exchange
from tickwire_normalize.domain.history.registry import HISTORY_MAPPINGS
from tickwire_normalize.domain.venues import binance, coinbase, kraken

T0 = 1_709_251_200_000  # 2024-03-01T00:00:00Z, ms
RECEIVED = 1_720_000_000_000_000


def mapped(provider: str, feed: str, instrument: str, message: Any) -> list[Mapped]:
    return exchange.map_row(HistoryRow(provider, feed, instrument, RECEIVED, message))


def reject(provider: str, feed: str, message: Any) -> str:
    with pytest.raises(RejectedRecord) as caught:
        mapped(provider, feed, "BTCUSDT", message)
    return caught.value.reason


def test_the_four_venues_are_registered() -> None:
    for provider in ("binance", "coinbase", "kraken", "deribit"):
        assert HISTORY_MAPPINGS[provider] is exchange.map_row


def test_a_ccxt_candle_is_a_bar_of_the_venue() -> None:
    candle = [T0, 61000.5, 61250.0, 60900.25, 61100.0, 123.456]
    assert mapped("binance", "ohlcv:1h", "BTCUSDT", candle) == [
        Mapped(
            BAR,
            {
                "provider": "binance",
                "instrument": "BTC-USDT",
                "interval": "1h",
                "start_ts": T0 * 1000,
                "open": 61000.5,
                "high": 61250.0,
                "low": 60900.25,
                "close": 61100.0,
                "volume": 123.456,
                "tick_count": 0,
                "source": "binance",
                "adj_close": None,
            },
        )
    ]


@pytest.mark.parametrize(
    ("provider", "venue_instrument", "instrument"),
    [
        ("coinbase", "BTC-USD", "BTC-USD"),
        ("kraken", "BTC/USD", "BTC-USD"),
        ("deribit", "BTC-PERPETUAL", "BTC-USD-PERP"),
        ("deribit", "BTC-29MAR24", "BTC-USD-20240329"),
    ],
)
def test_bars_take_the_live_mappings_unified_name(
    provider: str, venue_instrument: str, instrument: str
) -> None:
    (bar,) = mapped(provider, "ohlcv:1d", venue_instrument, [T0, 1, 2, 0.5, 1.5, 0])
    assert bar.record["instrument"] == instrument
    assert (bar.record["provider"], bar.record["source"], bar.record["interval"]) == (
        provider,
        provider,
        "1d",
    )


@pytest.mark.parametrize(
    ("feed", "candle", "reason"),
    [
        ("ohlcv:1h", {"open": 1}, reasons.UNDECODABLE_PAYLOAD),
        ("ohlcv:1h", [T0, 1, 2, 0.5, 1.5], reasons.UNDECODABLE_PAYLOAD),
        ("ohlcv:1h", [T0, 1, None, 0.5, 1.5, 3], reasons.MISSING_VALUE),
        ("ohlcv:1h", [T0, 1, 2, 0.5, 1.5, None], reasons.MISSING_VALUE),
        ("ohlcv:1h", [T0, "abc", 2, 0.5, 1.5, 3], reasons.UNDECODABLE_PAYLOAD),
        ("ohlcv:1h", [T0, 1, float("inf"), 0.5, 1.5, 3], reasons.NON_FINITE),
        ("ohlcv:1h", [None, 1, 2, 0.5, 1.5, 3], reasons.MISSING_IDENTITY),
        ("ohlcv:1h", [1.5, 1, 2, 0.5, 1.5, 3], reasons.UNDECODABLE_PAYLOAD),
        ("ohlcv:3m", [T0, 1, 2, 0.5, 1.5, 3], reasons.UNKNOWN_MESSAGE),
        ("book", [T0, 1, 2, 0.5, 1.5, 3], reasons.UNKNOWN_MESSAGE),
        ("trades", [T0, 1], reasons.UNDECODABLE_PAYLOAD),
    ],
)
def test_bad_rows_are_rejected_with_their_reason(feed: str, candle: Any, reason: str) -> None:
    assert reject("binance", feed, candle) == reason


def test_an_unknown_provider_is_rejected() -> None:
    assert reject("bitstamp", "trades", {}) == reasons.UNKNOWN_PROVIDER


def ccxt_trade(info: Any, **fields: Any) -> dict[str, Any]:
    """A trade as ccxt's unified structure has it (its keys, in its types)."""
    return {
        "info": info,
        "timestamp": None,
        "datetime": None,
        "symbol": "BTC/USD",
        "id": None,
        "order": None,
        "type": None,
        "side": None,
        "takerOrMaker": None,
        "price": None,
        "amount": None,
        "cost": None,
        "fee": None,
        "fees": [],
        **fields,
    }


def test_a_binance_trade_is_the_tick_of_its_live_aggtrade() -> None:
    rest = {
        "a": 26129,
        "p": "61000.01",
        "q": "0.25",
        "f": 27781,
        "l": 27782,
        "T": T0 + 153,
        "m": True,
        "M": True,
    }
    trade = ccxt_trade(
        rest, timestamp=T0 + 153, id="26129", side="sell", price=61000.01, amount=0.25
    )
    (history,) = mapped("binance", "trades", "BTCUSDT", trade)
    live = binance.map_message(
        "aggTrade", {"e": "aggTrade", "E": T0 + 160, "s": "BTCUSDT", **rest}, 0
    )
    assert history == Mapped(TICK, live[0])
    assert history.record["trade_id"] == "26129" and history.record["side"] == "sell"


def test_a_coinbase_trade_keeps_its_microseconds_as_the_live_channel_does() -> None:
    rest = {
        "trade_id": "995098663",
        "product_id": "BTC-USD",
        "price": "68923.67",
        "size": "0.00064",
        "time": "2024-03-01T00:28:58.544778Z",
        "side": "SELL",
        "bid": "",
        "ask": "",
        "exchange": "coinbase",
    }
    trade = ccxt_trade(
        rest,
        timestamp=1_709_252_938_544,
        id="995098663",
        side="sell",
        price=68923.67,
        amount=0.00064,
    )
    (history,) = mapped("coinbase", "trades", "BTC-USD", trade)
    frame = {"channel": "market_trades", "events": [{"type": "update", "trades": [rest]}]}
    live = coinbase.map_message("market_trades", frame, 0)
    assert history == Mapped(TICK, live[0])
    assert history.record["exchange_ts"] == 1_709_252_938_544_778


def test_a_kraken_trade_is_the_tick_of_its_live_v2_trade() -> None:
    rest = ["61000.10000", "0.34507674", 1709251597.8277369, "b", "m", "", 61044952]
    trade = ccxt_trade(
        rest,
        timestamp=1709251597827,
        id="61044952",
        side="buy",
        price=61000.1,
        amount=0.34507674,
        type="market",
    )
    (history,) = mapped("kraken", "trades", "BTC/USD", trade)
    v2 = {
        "symbol": "BTC/USD",
        "side": "buy",
        "price": 61000.1,
        "qty": 0.34507674,
        "ord_type": "market",
        "trade_id": 61044952,
        "timestamp": "2024-03-01T00:06:37.827737Z",
    }
    live = kraken.map_message("trade", {"channel": "trade", "type": "update", "data": [v2]}, 0)
    assert history == Mapped(TICK, live[0])


def test_a_kraken_trade_time_is_rounded_in_decimal_not_in_float() -> None:
    # 1709251201.0878434 s is 1709251201087843.4 µs; times 1e6 in float64 it is ...843.5.
    rest = ["60970.50357", "0.06978973", 1709251201.0878434, "s", "l", "", 70000000]
    trade = ccxt_trade(rest, timestamp=1709251201087, id="70000000", side="sell",
                       price=60970.50357, amount=0.06978973, type="limit")  # fmt: skip
    (history,) = mapped("kraken", "trades", "BTC/USD", trade)
    assert history.record["exchange_ts"] == 1_709_251_201_087_843


def test_a_deribit_trade_uses_ccxts_time_and_fields() -> None:
    rest = {
        "trade_seq": 30289432,
        "trade_id": "48079254",
        "timestamp": T0 + 7,
        "tick_direction": 0,
        "price": 61000.5,
        "mark_price": 61001.2,
        "instrument_name": "BTC-PERPETUAL",
        "index_price": 60998.1,
        "direction": "buy",
        "amount": 10.0,
    }
    trade = ccxt_trade(
        rest, timestamp=T0 + 7, id="48079254", side="buy", price=61000.5, amount=10.0
    )
    assert mapped("deribit", "trades", "BTC-PERPETUAL", trade) == [
        Mapped(
            TICK,
            {
                "kind": "trade",
                "venue_instrument": "BTC-PERPETUAL",
                "exchange_ts": (T0 + 7) * 1000,
                "trade_id": "48079254",
                "last_traded_price": 61000.5,
                "last_traded_volume": 10.0,
                "side": "buy",
            },
        )
    ]


def test_a_trade_ccxt_could_not_read_is_left_for_validation_not_invented() -> None:
    trade = ccxt_trade({"a": 7}, id="7", price=None, amount=None)
    (tick,) = mapped("binance", "trades", "BTCUSDT", trade)
    assert "last_traded_price" not in tick.record and "exchange_ts" not in tick.record
    with pytest.raises(RejectedRecord) as caught:
        mapped("binance", "trades", "BTCUSDT", ccxt_trade({}, price="abc"))
    assert caught.value.reason == reasons.UNDECODABLE_PAYLOAD

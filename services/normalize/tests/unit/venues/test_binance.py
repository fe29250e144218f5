from __future__ import annotations

from typing import Any

import pytest

from tickwire_core.errors import RejectedRecord

RECEIVED = 1_700_000_000_000_000
TRADE_TIME_US = 1_672_515_782_136_000


def combined(stream: str, event: dict[str, Any]) -> dict[str, Any]:
    return {"stream": stream, "data": event}


def book_ticker(**over: Any) -> dict[str, Any]:
    return {
        "u": 400900217,
        "s": "BNBUSDT",
        "b": "25.35190000",
        "B": "31.21000000",
        "a": "25.36520000",
        "A": "40.66000000",
        **over,
    }


def agg_trade(**over: Any) -> dict[str, Any]:
    return {
        "e": "aggTrade",
        "E": 1672515782136,
        "s": "BNBBTC",
        "a": 12345,
        "p": "0.001",
        "q": "100",
        "f": 100,
        "l": 105,
        "T": 1672515782136,
        "m": True,
        "M": True,
        **over,
    }


def test_documented_book_ticker_is_a_quote_stamped_at_receipt(documented: Any, one: Any) -> None:
    tick = one("binance", "bookTicker", documented("binance")[0], received_ts=RECEIVED)
    assert tick == {
        "provider": "binance",
        "instrument": "BNB-USDT",
        "venue_instrument": "BNBUSDT",
        "kind": "quote",
        "exchange_ts": RECEIVED,
        "received_ts": RECEIVED,
        "ingest_instance": "primary",
        "ingest_seq": 7,
        "venue_seq": 400900217,
        "bid_price": 25.3519,
        "bid_amount": 31.21,
        "ask_price": 25.3652,
        "ask_amount": 40.66,
        "dedup_key": "s:400900217",
    }


def test_documented_agg_trade_takes_the_taker_side(documented: Any, one: Any) -> None:
    tick = one("binance", "aggTrade", documented("binance")[1])
    assert tick == {
        "provider": "binance",
        "instrument": "BNB-BTC",
        "venue_instrument": "BNBBTC",
        "kind": "trade",
        "exchange_ts": TRADE_TIME_US,
        "received_ts": 1_700_000_000_000_000,
        "ingest_instance": "primary",
        "ingest_seq": 7,
        "trade_id": "12345",
        "venue_seq": 12345,
        "last_traded_price": 0.001,
        "last_traded_volume": 100.0,
        "side": "sell",  # m=true: the buyer was the maker
        "dedup_key": "t:12345",
    }


def test_a_taker_buy(one: Any) -> None:
    assert one("binance", "aggTrade", agg_trade(m=False))["side"] == "buy"


@pytest.mark.parametrize(
    ("feed", "bare", "stream"),
    [
        ("bookTicker", book_ticker(), "bnbusdt@bookTicker"),
        ("aggTrade", agg_trade(), "bnbbtc@aggTrade"),
    ],
)
def test_combined_and_bare_frames_map_alike(
    one: Any, feed: str, bare: dict[str, Any], stream: str
) -> None:
    assert one("binance", feed, combined(stream, bare)) == one("binance", feed, bare)


def test_the_combined_stream_name_tells_the_event_whatever_the_feed(one: Any) -> None:
    tick = one("binance", "raw", combined("bnbusdt@bookTicker", book_ticker()))
    assert (tick["kind"], tick["venue_seq"]) == ("quote", 400900217)


def test_two_instances_share_a_book_ticker_key_despite_receipt_times(one: Any) -> None:
    primary = one("binance", "bookTicker", book_ticker(), received_ts=RECEIVED)
    replica = one(
        "binance", "bookTicker", book_ticker(), received_ts=RECEIVED + 3_000, ingest_instance="b"
    )
    assert primary["exchange_ts"] != replica["exchange_ts"]
    assert primary["dedup_key"] == replica["dedup_key"] == "s:400900217"


def test_a_book_ticker_with_a_transaction_time_uses_it(one: Any) -> None:
    # USD-M futures bookTicker events name themselves and carry T and E.
    event = book_ticker(e="bookTicker", T=1_699_999_999_990, E=1_699_999_999_995)
    tick = one("binance", "bookTicker", event, received_ts=RECEIVED)
    assert tick["exchange_ts"] == 1_699_999_999_990_000


def test_an_empty_book_side_is_no_level(one: Any) -> None:
    tick = one("binance", "bookTicker", book_ticker(b="0.00000000", B="0.00000000"))
    assert "bid_price" not in tick and "bid_amount" not in tick
    assert tick["ask_price"] == 25.3652


@pytest.mark.parametrize(
    ("feed", "message", "reason"),
    [
        ("bookTicker", [book_ticker()], "undecodable_payload"),
        ("bookTicker", None, "undecodable_payload"),
        ("bookTicker", {"stream": "bnbusdt@bookTicker"}, "undecodable_payload"),
        ("bookTicker", {"stream": "bnbusdt@bookTicker", "data": [1]}, "undecodable_payload"),
        ("bookTicker", {"stream": 3, "data": book_ticker()}, "undecodable_payload"),
        ("depth", {"lastUpdateId": 160, "bids": [], "asks": []}, "unknown_message"),
        ("aggTrade", agg_trade(e="trade"), "unknown_message"),
        ("bookTicker", {"result": None, "id": 1}, "unknown_message"),
        ("bookTicker", combined("bnbusdt@depth", {"u": 1}), "unknown_message"),
        ("bookTicker", book_ticker(u=2**64), "undecodable_payload"),
        ("bookTicker", book_ticker(u="x"), "undecodable_payload"),
        ("bookTicker", book_ticker(s=None), "missing_identity"),
        ("bookTicker", book_ticker(b="abc"), "undecodable_payload"),
        ("bookTicker", book_ticker(B="-1"), "negative_size"),
        ("bookTicker", book_ticker(b="25.4"), "crossed_market"),
        ("bookTicker", book_ticker(a="Infinity"), "non_finite"),
        ("aggTrade", agg_trade(m="true"), "undecodable_payload"),
        ("aggTrade", agg_trade(p="0"), "non_positive_price"),
        ("aggTrade", agg_trade(q="-100"), "negative_size"),
        ("aggTrade", agg_trade(T="1672515782136.5"), "undecodable_payload"),
        ("aggTrade", agg_trade(T=None), "missing_identity"),
        ("aggTrade", agg_trade(a={"id": 1}), "undecodable_payload"),
    ],
)
def test_bad_input_is_rejected_with_a_reason(
    one: Any, feed: str, message: Any, reason: str
) -> None:
    with pytest.raises(RejectedRecord) as caught:
        one("binance", feed, message)
    assert caught.value.reason == reason
    assert caught.value.message

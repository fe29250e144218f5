from __future__ import annotations

import copy
from typing import Any

import pytest

from tickwire_core.errors import RejectedRecord

RECEIVED = 1_700_000_000_000_000  # 2023-11-14T22:13:20Z
SENT = "2023-11-14T22:13:19.123456789Z"
SENT_US = 1_699_999_999_123_456


def ticker(product: str = "BTC-USD", **over: Any) -> dict[str, Any]:
    return {
        "type": "ticker",
        "product_id": product,
        "price": "36500.01",
        "volume_24_h": "12000.5",
        "low_24_h": "35000",
        "high_24_h": "37000",
        "low_52_w": "15460",
        "high_52_w": "48240",
        "price_percent_chg_24_h": "1.25",
        "best_bid": "36500.00",
        "best_bid_quantity": "0.5",
        "best_ask": "36500.02",
        "best_ask_quantity": "1.5",
        **over,
    }


def frame(
    channel: str, events: Any, timestamp: str = SENT, sequence_num: int = 42
) -> dict[str, Any]:
    return {
        "channel": channel,
        "client_id": "",
        "timestamp": timestamp,
        "sequence_num": sequence_num,
        "events": events,
    }


def trade(trade_id: str, side: str = "BUY", **over: Any) -> dict[str, Any]:
    return {
        "trade_id": trade_id,
        "product_id": "ETH-USD",
        "price": "2050.5",
        "size": "0.25",
        "side": side,
        "time": "2023-11-14T22:13:18.5Z",
        **over,
    }


def test_documented_ticker_takes_the_frame_time(documented: Any, one: Any) -> None:
    tick = one("coinbase", "ticker", documented("coinbase")[0], received_ts=RECEIVED)
    dedup_key = tick.pop("dedup_key")
    assert tick == {
        "provider": "coinbase",
        "instrument": "BTC-USD",
        "venue_instrument": "BTC-USD",
        "kind": "ticker",
        "exchange_ts": 1_675_974_637_167_359,  # 2023-02-09T20:30:37.167359596Z, to the µs
        "received_ts": RECEIVED,
        "ingest_instance": "primary",
        "ingest_seq": 7,
        "last_traded_price": 21932.98,
        "bid_price": 21931.98,
        "bid_amount": 8000.21,
        "ask_price": 21933.98,
        "ask_amount": 8038.07770938,
        "volume_24h": 16038.28770938,
        "high_24h": 23011.18,
        "low_24h": 21835.29,
        "price_percent_change_24h": -4.15775596190603,
    }
    assert dedup_key.startswith("h:")


def test_documented_market_trade(documented: Any, one: Any) -> None:
    tick = one("coinbase", "market_trades", documented("coinbase")[1], received_ts=RECEIVED)
    assert tick == {
        "provider": "coinbase",
        "instrument": "ETH-USD",
        "venue_instrument": "ETH-USD",
        "kind": "trade",
        "exchange_ts": 1_565_815_347_265_000,  # 2019-08-14T20:42:27.265Z
        "received_ts": RECEIVED,
        "ingest_instance": "primary",
        "ingest_seq": 7,
        "trade_id": "000000000",
        "last_traded_price": 1260.01,
        "last_traded_volume": 0.3,
        "side": "buy",
        "dedup_key": "t:000000000",
    }


def test_every_ticker_of_every_event_is_a_tick(run: Any) -> None:
    message = frame(
        "ticker",
        [
            {"type": "update", "tickers": [ticker("BTC-USD"), ticker("ETH-USD", price="2050")]},
            {"type": "update", "tickers": [ticker("SOL-USD", price="60.1")]},
        ],
    )
    out = run("coinbase", "ticker", message, received_ts=RECEIVED)
    assert not out.rejects
    assert [(t["instrument"], t["last_traded_price"]) for t in out.ticks] == [
        ("BTC-USD", 36500.01),
        ("ETH-USD", 2050.0),
        ("SOL-USD", 60.1),
    ]
    assert {t["exchange_ts"] for t in out.ticks} == {SENT_US}


def test_snapshot_and_update_map_alike(one: Any) -> None:
    snapshot = one(
        "coinbase", "ticker", frame("ticker", [{"type": "snapshot", "tickers": [ticker()]}])
    )
    update = one("coinbase", "ticker", frame("ticker", [{"type": "update", "tickers": [ticker()]}]))
    assert snapshot == update


def test_two_connections_stamping_one_ticker_differently_share_its_key(one: Any) -> None:
    events = [{"type": "update", "tickers": [ticker()]}]
    first = one("coinbase", "ticker", frame("ticker", events))
    other = frame("ticker", events, timestamp="2023-11-14T22:13:19.2Z", sequence_num=7)
    second = one("coinbase", "ticker", other, ingest_instance="replica")
    assert first["exchange_ts"] != second["exchange_ts"]
    assert first["dedup_key"] == second["dedup_key"]
    assert "venue_seq" not in first  # sequence_num counts per connection, not per update
    changed = frame("ticker", [{"type": "update", "tickers": [ticker(price="36501")]}])
    assert one("coinbase", "ticker", changed)["dedup_key"] != first["dedup_key"]


def test_every_trade_of_a_frame_is_a_tick(run: Any) -> None:
    message = frame(
        "market_trades",
        [{"type": "update", "trades": [trade("101", "BUY"), trade("102", "SELL")]}],
    )
    out = run("coinbase", "market_trades", message, received_ts=RECEIVED)
    assert [(t["trade_id"], t["side"], t["dedup_key"]) for t in out.ticks] == [
        ("101", "buy", "t:101"),
        ("102", "sell", "t:102"),
    ]
    assert {t["exchange_ts"] for t in out.ticks} == {1_699_999_998_500_000}


def test_an_empty_frame_has_no_ticks(run: Any) -> None:
    out = run(
        "coinbase", "market_trades", frame("market_trades", [{"type": "update", "trades": []}])
    )
    assert (out.ticks, out.rejects) == ([], [])


def test_a_tick_failing_validation_leaves_its_neighbours(run: Any) -> None:
    message = frame(
        "ticker", [{"type": "update", "tickers": [ticker(), ticker("ETH-USD", price="0")]}]
    )
    out = run("coinbase", "ticker", message, received_ts=RECEIVED)
    assert [t["instrument"] for t in out.ticks] == ["BTC-USD"]
    assert [r.reason for r in out.rejects] == ["non_positive_price"]


def test_an_unknown_side_label_leaves_the_side_unknown(one: Any) -> None:
    message = frame("market_trades", [{"type": "update", "trades": [trade("7", "UNKNOWN")]}])
    assert "side" not in one("coinbase", "market_trades", message)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("ticker", "undecodable_payload"),
        ({"channel": "heartbeats", "events": [{"heartbeat_counter": "3049"}]}, "unknown_message"),
        ({"channel": "subscriptions", "events": []}, "unknown_message"),
        ({"type": "error", "message": "failure"}, "unknown_message"),
        (frame("ticker", {"type": "update"}), "undecodable_payload"),
        (frame("ticker", ["update"]), "undecodable_payload"),
        (frame("ticker", [{"type": "update", "tickers": "BTC-USD"}]), "undecodable_payload"),
        (frame("ticker", [{"tickers": [ticker()]}], timestamp="yesterday"), "undecodable_payload"),
        (
            frame("ticker", [{"tickers": [ticker()]}], timestamp="2023-02-30T00:00:00Z"),
            "undecodable_payload",
        ),
        ({**frame("ticker", [{"tickers": [ticker()]}]), "timestamp": None}, "missing_identity"),
        (frame("ticker", [{"tickers": [ticker(product_id=None)]}]), "missing_identity"),
        (frame("ticker", [{"tickers": [ticker(best_bid="n/a")]}]), "undecodable_payload"),
        (frame("ticker", [{"tickers": [ticker(best_bid="36501")]}]), "crossed_market"),
        (frame("market_trades", [{"trades": [trade("1", time=None)]}]), "missing_identity"),
        (
            frame("market_trades", [{"trades": [trade("1", time=1700000000)]}]),
            "undecodable_payload",
        ),
        (
            frame("market_trades", [{"trades": [{**trade("1"), "trade_id": True}]}]),
            "undecodable_payload",
        ),
        (frame("market_trades", [{"trades": [{**trade("1"), "side": 1}]}]), "undecodable_payload"),
        (frame("market_trades", [{"trades": [trade("1", size="-0.25")]}]), "negative_size"),
    ],
)
def test_bad_input_is_rejected_with_a_reason(one: Any, message: Any, reason: str) -> None:
    with pytest.raises(RejectedRecord) as caught:
        one("coinbase", "ticker", copy.deepcopy(message), received_ts=RECEIVED)
    assert caught.value.reason == reason
    assert caught.value.message

from __future__ import annotations

import copy
from typing import Any

import pytest

from tickwire_core.errors import RejectedRecord

RECEIVED = 1_700_000_000_000_000  # 2023-11-14T22:13:20Z


def ticker(**over: Any) -> dict[str, Any]:
    """A ticker as the first v2 docs show it: numbers as JSON numbers, no time."""
    return {
        "symbol": "BTC/USD",
        "bid": 36500.1,
        "bid_qty": 0.75,
        "ask": 36500.2,
        "ask_qty": 1.25,
        "last": 36500.2,
        "volume": 1520.33,
        "vwap": 36210.4,
        "low": 35800.0,
        "high": 36700.0,
        "change": 450.1,
        "change_pct": 1.25,
        **over,
    }


def trade(trade_id: int, **over: Any) -> dict[str, Any]:
    return {
        "symbol": "BTC/USD",
        "side": "sell",
        "price": 36500.1,
        "qty": 0.01,
        "ord_type": "market",
        "trade_id": trade_id,
        "timestamp": "2023-11-14T22:13:19.500001Z",
        **over,
    }


def test_documented_ticker_snapshot(documented: Any, one: Any) -> None:
    tick = one("kraken", "ticker", documented("kraken")[0], received_ts=RECEIVED)
    dedup_key = tick.pop("dedup_key")
    assert tick == {
        "provider": "kraken",
        "instrument": "ALGO-USD",
        "venue_instrument": "ALGO/USD",
        "kind": "ticker",
        "exchange_ts": 1_695_632_671_742_648,  # 2023-09-25T09:04:31.742648Z
        "received_ts": RECEIVED,
        "ingest_instance": "primary",
        "ingest_seq": 7,
        "bid_price": 0.10025,
        "bid_amount": 740.0,
        "ask_price": 0.10036,
        "ask_amount": 1361.44813783,
        "last_traded_price": 0.10035,
        "volume_24h": 997038.98383185,
        "high_24h": 0.10285,
        "low_24h": 0.09979,
        "price_percent_change_24h": -0.17,
    }
    assert dedup_key.startswith("h:")


def test_documented_trade(documented: Any, one: Any) -> None:
    tick = one("kraken", "trade", documented("kraken")[1], received_ts=RECEIVED)
    assert tick == {
        "provider": "kraken",
        "instrument": "MATIC-USD",
        "venue_instrument": "MATIC/USD",
        "kind": "trade",
        "exchange_ts": 1_695_628_116_925_533,  # 2023-09-25T07:48:36.925533Z
        "received_ts": RECEIVED,
        "ingest_instance": "primary",
        "ingest_seq": 7,
        "trade_id": "4665846",
        "last_traded_price": 0.5147,
        "last_traded_volume": 6423.46326,
        "side": "buy",
        "dedup_key": "t:4665846",
    }


def test_a_ticker_without_time_is_stamped_at_receipt_and_keyed_without_it(one: Any) -> None:
    message = {"channel": "ticker", "type": "update", "data": [ticker()]}
    primary = one("kraken", "ticker", message, received_ts=RECEIVED)
    replica = one("kraken", "ticker", message, received_ts=RECEIVED + 800, ingest_instance="b")
    assert (primary["exchange_ts"], replica["exchange_ts"]) == (RECEIVED, RECEIVED + 800)
    assert primary["dedup_key"] == replica["dedup_key"]


def test_an_update_time_is_part_of_the_identity(one: Any) -> None:
    def update(at: str) -> dict[str, Any]:
        return {"channel": "ticker", "type": "update", "data": [ticker(timestamp=at)]}

    first = one("kraken", "ticker", update("2023-11-14T22:13:19.000001Z"))
    again = one("kraken", "ticker", update("2023-11-14T22:13:19.000001Z"), ingest_instance="b")
    later = one("kraken", "ticker", update("2023-11-14T22:13:19.5Z"))
    assert first["exchange_ts"] == 1_699_999_999_000_001
    assert first["dedup_key"] == again["dedup_key"] != later["dedup_key"]


def test_a_snapshot_is_keyed_by_its_content_alone(one: Any) -> None:
    def snapshot(at: str) -> dict[str, Any]:
        return {"channel": "ticker", "type": "snapshot", "data": [ticker(timestamp=at)]}

    first = one("kraken", "ticker", snapshot("2023-11-14T22:13:19Z"))
    second = one("kraken", "ticker", snapshot("2023-11-14T22:13:19.7Z"), ingest_instance="b")
    assert first["dedup_key"] == second["dedup_key"]


def test_every_item_of_a_frame_is_a_tick(run: Any) -> None:
    message = {
        "channel": "trade",
        "type": "update",
        "data": [trade(11), trade(12, side="buy", symbol="ETH/USD", price=2050.5)],
    }
    out = run("kraken", "trade", message, received_ts=RECEIVED)
    assert [(t["instrument"], t["trade_id"], t["side"]) for t in out.ticks] == [
        ("BTC-USD", "11", "sell"),
        ("ETH-USD", "12", "buy"),
    ]
    tickers = {
        "channel": "ticker",
        "type": "snapshot",
        "data": [ticker(), ticker(symbol="ETH/USD")],
    }
    assert [t["instrument"] for t in run("kraken", "ticker", tickers).ticks] == [
        "BTC-USD",
        "ETH-USD",
    ]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ([{"channel": "ticker"}], "undecodable_payload"),
        ({"channel": "heartbeat"}, "unknown_message"),
        (
            {"channel": "status", "type": "update", "data": [{"system": "online"}]},
            "unknown_message",
        ),
        (
            {"method": "subscribe", "result": {"channel": "ticker"}, "success": True},
            "unknown_message",
        ),
        ({"channel": "ticker", "type": "update", "data": ticker()}, "undecodable_payload"),
        ({"channel": "trade", "data": [1, 2]}, "undecodable_payload"),
        ({"channel": "ticker", "data": [ticker(bid="abc")]}, "undecodable_payload"),
        ({"channel": "ticker", "data": [ticker(symbol=None)]}, "missing_identity"),
        ({"channel": "ticker", "data": [ticker(symbol="\ud800/USD")]}, "undecodable_payload"),
        ({"channel": "ticker", "data": [ticker(bid=36501)]}, "crossed_market"),
        ({"channel": "ticker", "data": [ticker(low=36800.0)]}, "high_below_low"),
        (
            {"channel": "ticker", "data": [ticker(timestamp="2023-13-01T00:00:00Z")]},
            "undecodable_payload",
        ),
        (
            {"channel": "trade", "data": [trade(1, timestamp="2023-11-14 22:13:19")]},
            "undecodable_payload",
        ),
        ({"channel": "trade", "data": [trade(1, timestamp=None)]}, "missing_identity"),
        ({"channel": "trade", "data": [trade(1, qty=-0.01)]}, "negative_size"),
        ({"channel": "trade", "data": [trade(1, price=0)]}, "non_positive_price"),
        ({"channel": "trade", "data": [{**trade(1), "trade_id": 1.5}]}, "undecodable_payload"),
    ],
)
def test_bad_input_is_rejected_with_a_reason(one: Any, message: Any, reason: str) -> None:
    with pytest.raises(RejectedRecord) as caught:
        one("kraken", "ticker", copy.deepcopy(message), received_ts=RECEIVED)
    assert caught.value.reason == reason
    assert caught.value.message

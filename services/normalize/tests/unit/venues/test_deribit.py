from __future__ import annotations

import copy
from typing import Any

import pytest

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain.venues import deribit

OPTION_TS = 1_732_000_000_123  # ms, 2024-11-19
AFTER_OPTION = OPTION_TS * 1000 + 40_000


def notification(data: dict[str, Any], channel: str | None = None) -> dict[str, Any]:
    name = data.get("instrument_name", "BTC-PERPETUAL")
    return {
        "jsonrpc": "2.0",
        "method": "subscription",
        "params": {"channel": channel or f"ticker.{name}.100ms", "data": data},
    }


def option_data(**over: Any) -> dict[str, Any]:
    """An option ticker with the fields the Deribit docs list for options."""
    return {
        "timestamp": OPTION_TS,
        "state": "open",
        "stats": {"volume": 12.3, "price_change": -4.5, "low": 0.021, "high": 0.03},
        "settlement_price": 0.0242,
        "open_interest": 1520.4,
        "min_price": 0.0001,
        "max_price": 0.08,
        "mark_price": 0.0251,
        "mark_iv": 52.31,
        "last_price": 0.025,
        "interest_rate": 0,
        "instrument_name": "BTC-27DEC24-100000-C",
        "index_price": 91500.12,
        "greeks": {"rho": 12.5, "theta": -45.2, "vega": 78.9, "gamma": 0.00002, "delta": 0.41},
        "estimated_delivery_price": 91500.12,
        "bid_iv": 51.8,
        "best_bid_price": 0.0245,
        "best_bid_amount": 3.5,
        "best_ask_price": 0.026,
        "best_ask_amount": 1.2,
        "ask_iv": 53.4,
        "underlying_price": 92010.5,
        "underlying_index": "BTC-27DEC24",
        **over,
    }


def test_documented_perpetual_ticker_maps_every_field(documented: Any, one: Any) -> None:
    tick = one("deribit", "ticker", documented("deribit")[0], received_ts=1_623_060_194_301_000 + 9)
    dedup_key = tick.pop("dedup_key")
    assert tick == {
        "provider": "deribit",
        "instrument": "BTC-USD-PERP",
        "venue_instrument": "BTC-PERPETUAL",
        "kind": "ticker",
        "exchange_ts": 1_623_060_194_301_000,
        "received_ts": 1_623_060_194_301_009,
        "ingest_instance": "primary",
        "ingest_seq": 7,
        "bid_price": 36442.5,
        "bid_amount": 5000.0,
        "ask_price": 36443.0,
        "ask_amount": 100.0,
        "last_traded_price": 36457.5,
        "index_price": 36441.64,
        "mark_price": 36446.51,
        "min_price": 35898.37,
        "max_price": 36991.72,
        "settlement_price": 36169.49,
        "estimated_delivery_price": 36441.64,
        "current_funding": 0.0,
        "funding_8h": 2.11e-05,
        "open_interest": 502097590.0,
        "interest_value": 1.7362511643080387,
        "order_book_state": "open",
        "volume_24h": 7871.02139035,
        "volume_usd_24h": 284061480.0,
        "price_percent_change_24h": 0.7229,
        "high_24h": 36824.5,
        "low_24h": 35213.5,
    }
    assert dedup_key.startswith("h:")  # no trade id, no sequence: the content identifies it


def test_option_ticker_carries_ivs_in_percent_and_greeks(one: Any) -> None:
    tick = one("deribit", "ticker", notification(option_data()), received_ts=AFTER_OPTION)
    assert tick["instrument"] == "BTC-USD-20241227-100000-C"
    assert tick["exchange_ts"] == 1_732_000_000_123_000
    assert (tick["bid_price"], tick["bid_amount"], tick["ask_price"], tick["ask_amount"]) == (
        0.0245,
        3.5,
        0.026,
        1.2,
    )
    assert (
        tick["bid_implied_volatility"],
        tick["ask_implied_volatility"],
        tick["mark_implied_volatility"],
    ) == (51.8, 53.4, 52.31)
    greeks = {name: tick[name] for name in ("delta", "gamma", "vega", "theta", "rho")}
    assert greeks == {"delta": 0.41, "gamma": 0.00002, "vega": 78.9, "theta": -45.2, "rho": 12.5}
    assert (tick["underlying_index"], tick["underlying_price"]) == ("BTC-27DEC24", 92010.5)
    assert (tick["interest_rate"], tick["price_percent_change_24h"]) == (0.0, -4.5)
    assert "volume_usd_24h" not in tick and "current_funding" not in tick


def test_an_empty_book_side_is_no_level_and_no_iv(one: Any) -> None:
    data = option_data(best_bid_price=0, best_bid_amount=0, bid_iv=0)
    tick = one("deribit", "ticker", notification(data), received_ts=AFTER_OPTION)
    assert not {"bid_price", "bid_amount", "bid_implied_volatility"} & tick.keys()
    assert (tick["ask_price"], tick["ask_implied_volatility"]) == (0.026, 53.4)


def test_future_ticker_with_delivery_fields(one: Any) -> None:
    data = {
        "instrument_name": "BTC-27DEC24",
        "timestamp": OPTION_TS,
        "state": "closed",
        "best_bid_price": None,
        "best_ask_price": None,
        "mark_price": 95990.0,
        "index_price": 95980.5,
        "delivery_price": 95985.25,
        "open_interest": 0,
        "stats": {"volume": None, "price_change": None, "high": None, "low": None},
    }
    tick = one("deribit", "ticker", notification(data), received_ts=AFTER_OPTION)
    assert tick["instrument"] == "BTC-USD-20241227"
    assert (tick["delivery_price"], tick["order_book_state"], tick["open_interest"]) == (
        95985.25,
        "closed",
        0.0,
    )
    assert "bid_price" not in tick and "high_24h" not in tick


def test_linear_perpetual_keeps_its_quote(one: Any, documented: Any) -> None:
    message = copy.deepcopy(documented("deribit")[0])
    message["params"]["data"]["instrument_name"] = "BTC_USDC-PERPETUAL"
    tick = one("deribit", "ticker", message)
    assert (tick["instrument"], tick["venue_instrument"]) == ("BTC-USDC-PERP", "BTC_USDC-PERPETUAL")


def test_the_venue_time_is_part_of_the_identity(one: Any) -> None:
    message = notification(option_data())
    primary = one("deribit", "ticker", message, received_ts=AFTER_OPTION)
    replica = one("deribit", "ticker", message, received_ts=AFTER_OPTION + 5, ingest_instance="b")
    assert primary["dedup_key"] == replica["dedup_key"]
    later = notification(option_data(timestamp=OPTION_TS + 100))
    assert (
        one("deribit", "ticker", later, received_ts=AFTER_OPTION)["dedup_key"]
        != (primary["dedup_key"])
    )


def perpetual(**over: Any) -> dict[str, Any]:
    return notification(
        {
            "instrument_name": "BTC-PERPETUAL",
            "timestamp": OPTION_TS,
            "best_bid_price": 36442.5,
            "best_ask_price": 36443,
            **over,
        }
    )


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ([1, 2], "undecodable_payload"),
        ("ticker", "undecodable_payload"),
        (
            {"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "test_request"}},
            "unknown_message",
        ),
        ({"jsonrpc": "2.0", "id": 42, "result": ["ticker.BTC-PERPETUAL.100ms"]}, "unknown_message"),
        (notification({}, channel="book.BTC-PERPETUAL.100ms"), "unknown_message"),
        ({"method": "subscription", "params": "ticker"}, "undecodable_payload"),
        ({"method": "subscription", "params": {"channel": "ticker.X.raw"}}, "undecodable_payload"),
        ({"method": "subscription", "params": {"channel": 5, "data": {}}}, "undecodable_payload"),
        (
            {"method": "subscription", "params": {"channel": "ticker.X.raw", "data": [1]}},
            "undecodable_payload",
        ),
        (perpetual(timestamp="soon"), "undecodable_payload"),
        (perpetual(timestamp=1.5), "undecodable_payload"),
        (perpetual(timestamp=None), "missing_identity"),
        (perpetual(instrument_name=None), "missing_identity"),
        (perpetual(instrument_name=["BTC-PERPETUAL"]), "undecodable_payload"),
        (perpetual(best_bid_price="abc"), "undecodable_payload"),
        (perpetual(best_bid_price=True), "undecodable_payload"),
        (perpetual(mark_price=10**400), "non_finite"),
        (perpetual(stats=[1, 2]), "undecodable_payload"),
        (perpetual(greeks="none"), "undecodable_payload"),
        (perpetual(mark_price=-1), "non_positive_price"),
        (perpetual(open_interest=-5), "negative_size"),
        (perpetual(best_bid_price=36444), "crossed_market"),
        (perpetual(best_bid_price=36443), "locked_market"),
        (perpetual(min_price=2, max_price=1), "high_below_low"),
        (perpetual(timestamp=OPTION_TS + 3_600_000), "timestamp_out_of_range"),
    ],
)
def test_bad_input_is_rejected_with_a_reason(one: Any, message: Any, reason: str) -> None:
    with pytest.raises(RejectedRecord) as caught:
        one("deribit", "ticker", message, received_ts=AFTER_OPTION)
    assert caught.value.reason == reason
    assert caught.value.message


def test_nan_in_the_payload_is_rejected(one: Any) -> None:
    payload = b'{"method":"subscription","params":{"channel":"ticker.BTC-PERPETUAL.100ms",'
    payload += b'"data":{"instrument_name":"BTC-PERPETUAL","timestamp":1732000000123,'
    payload += b'"mark_price":NaN}}}'
    with pytest.raises(RejectedRecord) as caught:
        one("deribit", "ticker", payload, received_ts=AFTER_OPTION)
    assert caught.value.reason == "non_finite"


def test_map_message_alone_leaves_naming_and_stamping_to_normalize() -> None:
    ticks = deribit.map_message("ticker", notification(option_data()), AFTER_OPTION)
    assert len(ticks) == 1
    assert "instrument" not in ticks[0] and "received_ts" not in ticks[0]
    assert "_exchange_ts_not_identity" not in ticks[0]
    assert ticks[0]["venue_instrument"] == "BTC-27DEC24-100000-C"

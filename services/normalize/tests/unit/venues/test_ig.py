from __future__ import annotations

from typing import Any

import pytest

from tickwire_core.errors import RejectedRecord

UPDATED_MS = 1_700_000_000_123
RECEIVED = UPDATED_MS * 1000 + 2_000


def update(item: str = "MARKET:CS.D.EURUSD.TODAY.IP", **over: Any) -> dict[str, Any]:
    values = {
        "BID": "1.08501",
        "OFR": "1.08512",
        "LTV": None,
        "UTM": str(UPDATED_MS),
        "DAY_OPEN_MID": "1.08300",
        "DAY_NET_CHG_MID": "0.00206",
        "DAY_PERC_CHG_MID": "0.19",
        "DAY_HIGH": "1.08620",
        "DAY_LOW": "1.08210",
    }
    return {"item": item, "values": {**values, **over}}


def test_market_update_maps_field_by_field(one: Any) -> None:
    tick = one("ig", "quotes", update(), received_ts=RECEIVED)
    dedup_key = tick.pop("dedup_key")
    assert tick == {
        "provider": "ig",
        "instrument": "EUR-USD",
        "venue_instrument": "CS.D.EURUSD.TODAY.IP",
        "kind": "quote",
        "exchange_ts": 1_700_000_000_123_000,
        "received_ts": RECEIVED,
        "ingest_instance": "primary",
        "ingest_seq": 7,
        "bid_price": 1.08501,
        "ask_price": 1.08512,
        "day_open_mid": 1.083,
        "day_net_change_mid": 0.00206,
        "day_percent_change_mid": 0.19,
        "day_high": 1.0862,
        "day_low": 1.0821,
    }
    assert dedup_key.startswith("h:")


def test_null_and_empty_values_leave_their_fields_out(one: Any) -> None:
    message = update(BID=None, DAY_OPEN_MID="", DAY_HIGH=None, DAY_LOW=None, LTV="")
    tick = one("ig", "quotes", message, received_ts=RECEIVED)
    assert not {"bid_price", "day_open_mid", "day_high", "day_low", "last_traded_volume"} & set(
        tick
    )
    assert tick["ask_price"] == 1.08512


def test_traded_volume_and_market_state(one: Any) -> None:
    message = update("MARKET:IX.D.FTSE.DAILY.IP", LTV="12", MARKET_STATE="TRADEABLE")
    tick = one("ig", "quotes", message, received_ts=RECEIVED)
    assert (tick["last_traded_volume"], tick["order_book_state"]) == (12.0, "tradeable")
    assert tick["instrument"] == "IX.D.FTSE.DAILY.IP"  # not a currency pair: the epic itself


def test_traded_price_and_incremental_volume_of_an_index(one: Any) -> None:
    # IG's streaming reference lists LTP (last traded price) and TTV (incremental trading volume)
    # beside LTV among the chart tick fields; markets with exchange volume send them.
    message = update("MARKET:IX.D.FTSE.DAILY.IP", BID="7520.5", OFR="7521.5")
    message["values"] |= {"LTP": "7521.0", "LTV": "3", "TTV": "41", "DAY_HIGH": None}
    message["values"] |= {"DAY_LOW": None}
    tick = one("ig", "quotes", message, received_ts=RECEIVED)
    assert (tick["last_traded_price"], tick["last_traded_volume"]) == (7521.0, 3.0)
    assert tick["incremental_trading_volume"] == 41.0


def test_market_item_fields_by_their_documented_names(one: Any) -> None:
    # IG's streaming reference names the MARKET:<epic> item's fields BID, OFFER, MID_OPEN, HIGH,
    # LOW, CHANGE, CHANGE_PCT, UPDATE_TIME, MARKET_DELAY, MARKET_STATE; it has no epoch time.
    values = {"BID": "1.08501", "OFFER": "1.08512", "MID_OPEN": "1.08300", "HIGH": "1.08620"}
    values |= {"LOW": "1.08210", "CHANGE": "0.00206", "CHANGE_PCT": "0.19"}
    values |= {"UPDATE_TIME": "22:13:20", "MARKET_DELAY": "0", "MARKET_STATE": "TRADEABLE"}
    message = {"item": "MARKET:CS.D.EURUSD.TODAY.IP", "values": values}
    tick = one("ig", "quotes", message, received_ts=RECEIVED)
    again = one("ig", "quotes", message, received_ts=RECEIVED + 700, ingest_instance="b")
    assert tick["exchange_ts"] == RECEIVED  # UPDATE_TIME has no date: the receipt time stands in
    assert tick.pop("dedup_key") == again["dedup_key"]  # ... and stays out of the identity
    assert {k: v for k, v in tick.items() if k.startswith(("bid", "ask", "day"))} == {
        "bid_price": 1.08501,
        "ask_price": 1.08512,
        "day_open_mid": 1.083,
        "day_high": 1.0862,
        "day_low": 1.0821,
        "day_net_change_mid": 0.00206,
        "day_percent_change_mid": 0.19,
    }
    assert tick["order_book_state"] == "tradeable"


def test_the_chart_tick_name_wins_over_the_market_items(one: Any) -> None:
    tick = one("ig", "quotes", update(OFFER="1.09", HIGH="1.1"), received_ts=RECEIVED)
    assert (tick["ask_price"], tick["day_high"]) == (1.08512, 1.0862)


def test_the_update_time_is_part_of_the_identity(one: Any) -> None:
    first = one("ig", "quotes", update(), received_ts=RECEIVED)
    again = one("ig", "quotes", update(), received_ts=RECEIVED + 700, ingest_instance="b")
    later = one("ig", "quotes", update(UTM=str(UPDATED_MS + 1)), received_ts=RECEIVED)
    assert first["dedup_key"] == again["dedup_key"] != later["dedup_key"]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (["MARKET:CS.D.EURUSD.TODAY.IP"], "undecodable_payload"),
        ({"item": "CHART:CS.D.EURUSD.TODAY.IP:TICK", "values": {}}, "unknown_message"),
        ({"values": {"BID": "1"}}, "unknown_message"),
        ({"item": 42, "values": {}}, "undecodable_payload"),
        ({"item": "MARKET:CS.D.EURUSD.TODAY.IP"}, "undecodable_payload"),
        ({"item": "MARKET:CS.D.EURUSD.TODAY.IP", "values": ["1.08501"]}, "undecodable_payload"),
        (update("MARKET:"), "missing_identity"),
        (update(UTM="1700000000123.5"), "undecodable_payload"),
        (update(UTM="soon"), "undecodable_payload"),
        (update(BID="abc"), "undecodable_payload"),
        (update(BID="1.1"), "crossed_market"),
        (update(OFR="1.08501"), "locked_market"),
        (update(DAY_HIGH="1.0"), "high_below_low"),
        (update(OFR="-1"), "non_positive_price"),
        (update(LTV="-3"), "negative_size"),
        (update(TTV="-1"), "negative_size"),
        (update(LTP="0"), "non_positive_price"),
        (update(MARKET_STATE=1), "undecodable_payload"),
    ],
)
def test_bad_input_is_rejected_with_a_reason(one: Any, message: Any, reason: str) -> None:
    with pytest.raises(RejectedRecord) as caught:
        one("ig", "quotes", message, received_ts=RECEIVED)
    assert caught.value.reason == reason
    assert caught.value.message

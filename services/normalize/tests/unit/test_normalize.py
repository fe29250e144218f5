import json

import pytest

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain.normalize import normalize
from tickwire_normalize.domain.validate import Limits

NOW = 1_700_000_000_000_000


def raw(payload: object, provider: str = "simulator", received_ts: int = NOW + 250) -> dict:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return {
        "provider": provider,
        "feed": "quotes",
        "ingest_instance": "primary",
        "instrument": "SIM-BTC-USD",
        "received_ts": received_ts,
        "ingest_seq": 42,
        "content_type": "application/json",
        "payload": body,
    }


def quote(**over: object) -> dict:
    return {
        "type": "quote",
        "instrument": "SIM-BTC-USD",
        "ts": NOW,
        "seq": 9,
        "bid": "65000.50",
        "bid_size": "0.1250",
        "ask": "65001.00",
        "ask_size": "2.0000",
        **over,
    }


def trade(**over: object) -> dict:
    return {
        "type": "trade",
        "instrument": "SIM-BTC-USD",
        "ts": NOW,
        "seq": 10,
        "trade_id": "SIM-BTC-USD-3",
        "price": "65001.00",
        "size": "0.0100",
        "side": "buy",
        **over,
    }


def one(record: dict, limits: Limits | None = None) -> dict:
    """The single tick of a one-tick record, or its reject raised."""
    out = normalize(record, limits)
    if out.rejects:
        raise out.rejects[0]
    assert len(out.ticks) == 1
    return out.ticks[0]


def test_quote_maps_field_by_field() -> None:
    tick = one(raw(quote()))
    assert tick == {
        "provider": "simulator",
        "instrument": "SIM-BTC-USD",
        "venue_instrument": "SIM-BTC-USD",
        "kind": "quote",
        "exchange_ts": NOW,
        "received_ts": NOW + 250,
        "venue_seq": 9,
        "bid_price": 65000.5,
        "bid_amount": 0.125,
        "ask_price": 65001.0,
        "ask_amount": 2.0,
        "ingest_instance": "primary",
        "ingest_seq": 42,
        "dedup_key": "s:9",
    }


def test_trade_maps_field_by_field() -> None:
    tick = one(raw(trade()))
    assert tick["kind"] == "trade"
    assert (tick["last_traded_price"], tick["last_traded_volume"]) == (65001.0, 0.01)
    assert (tick["trade_id"], tick["side"], tick["venue_seq"]) == ("SIM-BTC-USD-3", "buy", 10)
    assert "bid_price" not in tick


def test_decimal_strings_parse_to_the_nearest_double() -> None:
    tick = one(raw(quote(bid="0.1", ask="0.30000000000000004")))
    assert tick["bid_price"] == 0.1 and tick["ask_price"] == 0.30000000000000004


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "undecodable_payload"),
        (b"[1, 2]", "undecodable_payload"),
        (b"\xff\xfe", "undecodable_payload"),
        ({"type": "heartbeat", "ts": NOW}, "unknown_message"),
        (quote(instrument=None), "missing_identity"),
        (quote(ts=None), "missing_identity"),
        (quote(bid="abc"), "undecodable_payload"),
        (quote(bid=True), "undecodable_payload"),
        (quote(ts="soon"), "undecodable_payload"),
        (quote(bid="NaN"), "non_finite"),
        (quote(ask="Infinity"), "non_finite"),
        (quote(bid="0"), "non_positive_price"),
        (quote(bid="-1", ask="1"), "non_positive_price"),
        (quote(bid_size="-0.5"), "negative_size"),
        (quote(bid="65002", ask="65001"), "crossed_market"),
        (quote(bid="65001", ask="65001"), "locked_market"),
        (quote(ts=NOW + 301 * 1_000_000), "timestamp_out_of_range"),
        (quote(ts=NOW - 8 * 86_400 * 1_000_000), "timestamp_out_of_range"),
        (trade(price="0"), "non_positive_price"),
        (trade(size="-1"), "negative_size"),
    ],
)
def test_bad_input_is_rejected_with_a_reason(payload: object, reason: str) -> None:
    with pytest.raises(RejectedRecord) as caught:
        one(raw(payload, received_ts=NOW))
    assert caught.value.reason == reason
    assert caught.value.message


def test_unknown_provider_is_rejected() -> None:
    with pytest.raises(RejectedRecord) as caught:
        one(raw(quote(), provider="nasdaq-itch"))
    assert caught.value.reason == "unknown_provider"


def test_time_limits_are_configurable() -> None:
    late = raw(quote(ts=NOW - 3_600 * 1_000_000), received_ts=NOW)
    assert one(late)["exchange_ts"] == NOW - 3_600 * 1_000_000
    with pytest.raises(RejectedRecord):
        one(late, Limits(max_past_s=60))


def test_gap_events_become_gap_ticks() -> None:
    body = {
        "instrument": "SIM-BTC-USD",
        "reason": "disconnect",
        "start_ts": NOW - 5_000_000,
        "end_ts": NOW,
        "lost": None,
    }
    record = {**raw(body), "feed": "gap", "content_type": "application/vnd.tickwire.gap+json"}
    tick = one(record)
    assert (tick["kind"], tick["exchange_ts"], tick["gap_end_ts"]) == ("gap", NOW - 5_000_000, NOW)
    assert (tick["gap_reason"], tick["instrument"]) == ("disconnect", "SIM-BTC-USD")
    backwards = {**body, "end_ts": NOW - 6_000_000}
    with pytest.raises(RejectedRecord):
        one({**record, "payload": json.dumps(backwards).encode()})


def test_primary_and_replica_copies_share_a_dedup_key() -> None:
    primary = one(raw(quote(seq=None)))
    replica = one({**raw(quote(seq=None)), "ingest_instance": "replica", "received_ts": NOW + 900})
    assert primary["dedup_key"] == replica["dedup_key"]
    assert primary["dedup_key"] != one(raw(quote(seq=None, bid="65000.00")))["dedup_key"]

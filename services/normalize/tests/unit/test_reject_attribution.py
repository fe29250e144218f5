"""A dead letter of normalize names what it was about where the record was read that far: the
provider, the unified instrument, and the exchange time (the receipt time where there is no
plausible one)."""

import json

from tickwire_core.batch import Consumed
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.dedup import DedupWindow
from tickwire_normalize.domain.validate import MAX_NAME_BYTES, Limits
from tickwire_normalize.handler import NormalizeHandler

NOW = 1_700_000_000_000_000


def raw(payload: object, provider: str = "simulator", instrument: str = "SIM-A") -> dict:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return {
        "provider": provider,
        "feed": "quotes",
        "ingest_instance": "primary",
        "instrument": instrument,
        "received_ts": NOW + 250,
        "ingest_seq": 1,
        "content_type": "application/json",
        "payload": body,
        "history": False,
    }


def quote(**over: object) -> dict:
    return {
        "type": "quote",
        "instrument": "SIM-A",
        "ts": NOW,
        "seq": 9,
        "bid": "100",
        "bid_size": "1",
        "ask": "101",
        "ask_size": "1",
        **over,
    }


def rejects(record: dict) -> list[tuple[str, str | None, str | None, int | None]]:
    handler = NormalizeHandler("t", Limits(), DedupWindow(120_000_000, 1000))
    outcome = handler([Consumed("raw", 0, 0, b"k", b"", record)])
    return [(r.reason, r.provider, r.instrument, r.event_ts) for r in outcome.rejects]


def test_a_refused_tick_is_attributed_to_its_instrument_and_exchange_time() -> None:
    crossed = raw(quote(bid="102", instrument="SIM-Q"), instrument="SIM-Q")
    assert rejects(crossed) == [(reasons.CROSSED_MARKET, "simulator", "SIM-Q", NOW)]


def test_an_implausible_exchange_time_gives_way_to_the_receipt_time() -> None:
    future = raw(quote(ts=NOW + 3_600_000_000))
    assert rejects(future) == [(reasons.TIMESTAMP_OUT_OF_RANGE, "simulator", "SIM-A", NOW + 250)]


def test_an_unreadable_payload_is_attributed_by_its_envelope_in_unified_form() -> None:
    assert rejects(raw(b"{not json", provider="binance", instrument="BTCUSDT")) == [
        (reasons.UNDECODABLE_PAYLOAD, "binance", "BTC-USDT", NOW + 250)
    ]
    assert rejects(raw(quote(), provider="nobody", instrument="X/Y")) == [
        (reasons.UNKNOWN_PROVIDER, "nobody", "X/Y", NOW + 250)
    ]


def test_an_envelope_without_an_instrument_leaves_it_unknown() -> None:
    assert rejects(raw(b"[", instrument="")) == [
        (reasons.UNDECODABLE_PAYLOAD, "simulator", None, NOW + 250)
    ]


def test_a_name_too_long_to_store_is_refused_and_left_out_of_its_reject() -> None:
    long_name = "é" * (MAX_NAME_BYTES // 2 + 1)  # within the limit in characters, not in bytes
    assert rejects(raw(quote(instrument=long_name), instrument=long_name)) == [
        (reasons.NAME_TOO_LONG, "simulator", None, NOW)
    ]
    # Refused for another reason, the reject still leaves the name out.
    assert rejects(raw(b"{not json", instrument="X" * 10_000)) == [
        (reasons.UNDECODABLE_PAYLOAD, "simulator", None, NOW + 250)
    ]
    at_limit = "S" * MAX_NAME_BYTES
    assert rejects(raw(quote(instrument=at_limit, bid="102"), instrument=at_limit)) == [
        (reasons.CROSSED_MARKET, "simulator", at_limit, NOW)
    ]

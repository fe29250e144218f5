"""The history path of normalize with a mapping of the test's own: a backfill's raw record is
mapped by provider, each record checked by its kind and routed to its topic, ticks stamped like
live ones (but old ones kept), and every failure a reject with its reason."""

import json
from typing import Any

import pytest

from tickwire_core.batch import Consumed
from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.dedup import DedupWindow
from tickwire_normalize.domain.history import (
    BAR,
    SHORT_INTEREST,
    SHORT_VOLUME,
    TICK,
    HistoryRow,
    Mapped,
)
from tickwire_normalize.domain.history.checks import check_bar, interval_us
from tickwire_normalize.domain.history.registry import HISTORY_MAPPINGS
from tickwire_normalize.domain.normalize import normalize
from tickwire_normalize.domain.validate import Limits
from tickwire_normalize.handler import NormalizeHandler

DAY = 86_400_000_000
NOW = 20_000 * DAY + 3_600_000_000  # 2024-10-04 01:00 UTC
YEAR_AGO = NOW - 365 * DAY


def bar(**over: Any) -> dict[str, Any]:
    return {
        "provider": "testvendor",
        "instrument": "ACME",
        "interval": "1d",
        "start_ts": 20_000 * DAY - DAY,
        "open": 10.0,
        "high": 12.0,
        "low": 9.5,
        "close": 11.0,
        "volume": 1000.0,
        "tick_count": 0,
        "source": "testvendor",
        "adj_close": 10.9,
    } | over


def _mapping(row: HistoryRow) -> list[Mapped]:
    message = row.message
    return [Mapped(item["kind"], dict(item["record"])) for item in message]


@pytest.fixture(autouse=True)
def vendor():
    HISTORY_MAPPINGS["testvendor"] = _mapping
    HISTORY_MAPPINGS["binance"], saved = _mapping, HISTORY_MAPPINGS.get("binance")
    yield
    del HISTORY_MAPPINGS["testvendor"]
    if saved is None:
        del HISTORY_MAPPINGS["binance"]
    else:
        HISTORY_MAPPINGS["binance"] = saved


def raw(items: list[dict[str, Any]], provider: str = "testvendor", history: bool = True) -> dict:
    return {
        "provider": provider,
        "feed": "ohlcv:1d",
        "ingest_instance": "backfill",
        "instrument": "ACME",
        "received_ts": NOW,
        "ingest_seq": 7,
        "content_type": "application/json",
        "payload": json.dumps(items).encode(),
        "history": history,
    }


def old_trade() -> dict[str, Any]:
    return {
        "kind": "trade",
        "venue_instrument": "BTCUSDT",
        "exchange_ts": YEAR_AGO,
        "last_traded_price": 60_000.0,
        "last_traded_volume": 0.5,
        "trade_id": "123",
        "side": "buy",
    }


def test_a_vendor_bar_passes_unchanged() -> None:
    out = normalize(raw([{"kind": BAR, "record": bar()}]))
    assert out.rejects == [] and out.ticks == []
    assert [(m.kind, m.record) for m in out.records] == [(BAR, bar())]


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"open": None}, reasons.MISSING_VALUE),
        ({"close": float("nan")}, reasons.NON_FINITE),
        ({"low": 0.0}, reasons.NON_POSITIVE_PRICE),
        ({"volume": -1.0}, reasons.NEGATIVE_SIZE),
        ({"high": 10.5}, reasons.BAR_INCONSISTENT),  # below the close
        ({"low": 10.5}, reasons.BAR_INCONSISTENT),  # above the open
        ({"start_ts": 20_000 * DAY - DAY + 1}, reasons.BAR_OFF_GRID),
        ({"interval": "3x"}, reasons.BAR_OFF_GRID),
        ({"start_ts": 20_000 * DAY}, reasons.FUTURE_BAR),  # today's bar, not closed at 01:00
        ({"instrument": ""}, reasons.MISSING_IDENTITY),
        ({"adj_close": float("inf")}, reasons.NON_FINITE),
        ({"open": "10"}, reasons.UNDECODABLE_PAYLOAD),
    ],
)
def test_a_bad_bar_is_rejected_with_its_reason(over: dict[str, Any], reason: str) -> None:
    out = normalize(raw([{"kind": BAR, "record": bar(**over)}, {"kind": BAR, "record": bar()}]))
    assert [r.reason for r in out.rejects] == [reason]
    assert len(out.records) == 1, "the good bar of the same record is kept"


def test_interval_lengths() -> None:
    assert interval_us("1m") == 60_000_000
    assert interval_us("4h") == 4 * 3_600_000_000
    assert interval_us("1d") == DAY
    assert [interval_us(x) for x in ("", "0m", "m", "1w", "-1h")] == [None] * 5
    check_bar(bar(interval="1h", start_ts=NOW - 2 * 3_600_000_000), NOW, 300.0)


def test_hourly_bars_may_start_with_the_session_minute_bars_on_their_own_grid() -> None:
    half_past = NOW - 3 * 3_600_000_000 + 30 * 60_000_000  # 09:30 New York is 13:30 or 14:30 UTC
    check_bar(bar(interval="1h", start_ts=half_past), NOW, 300.0)
    with pytest.raises(RejectedRecord) as off:
        check_bar(bar(interval="1h", start_ts=half_past + 60_000_000), NOW, 300.0)
    assert off.value.reason == reasons.BAR_OFF_GRID
    with pytest.raises(RejectedRecord) as minute:
        check_bar(bar(interval="5m", start_ts=NOW - 3 * 60_000_000), NOW, 300.0)
    assert minute.value.reason == reasons.BAR_OFF_GRID


def test_short_volume_and_interest_are_checked() -> None:
    good_volume = {
        "instrument": "ACME",
        "facility": "CNMS",
        "trade_date": 19_999,
        "short_volume": 100.0,
        "total_volume": 300.0,
        "received_ts": NOW,
    }
    good_interest = {
        "instrument": "ACME",
        "settlement_date": 19_990,
        "short_interest": 5000.0,
        "received_ts": NOW,
    }
    out = normalize(
        raw(
            [
                {"kind": SHORT_VOLUME, "record": good_volume},
                {"kind": SHORT_VOLUME, "record": good_volume | {"trade_date": 20_001}},
                {"kind": SHORT_VOLUME, "record": good_volume | {"total_volume": None}},
                {"kind": SHORT_INTEREST, "record": good_interest},
                {"kind": SHORT_INTEREST, "record": good_interest | {"days_to_cover": -2.0}},
            ]
        )
    )
    assert [r.reason for r in out.rejects] == [
        reasons.FUTURE_DATE,
        reasons.MISSING_VALUE,
        reasons.NEGATIVE_SIZE,
    ]
    assert [m.kind for m in out.records] == [SHORT_VOLUME, SHORT_INTEREST]
    assert out.records[0].record["provider"] == "testvendor"


def test_a_backfilled_tick_keeps_its_age_and_is_marked() -> None:
    out = normalize(raw([{"kind": TICK, "record": old_trade()}], provider="binance"))
    assert out.rejects == []
    (tick,) = out.ticks
    assert tick["history"] is True
    assert tick["instrument"] == "BTC-USDT"  # the live Binance mapping's name
    assert tick["provider"] == "binance" and tick["ingest_instance"] == "backfill"
    assert tick["dedup_key"]


def test_a_backfilled_tick_from_the_future_is_still_refused() -> None:
    future = old_trade() | {"exchange_ts": NOW + 3_600_000_000}
    out = normalize(raw([{"kind": TICK, "record": future}], provider="binance"))
    assert [r.reason for r in out.rejects] == [reasons.TIMESTAMP_OUT_OF_RANGE]


def test_unknown_providers_kinds_and_payloads_are_rejected() -> None:
    with pytest.raises(Exception) as unknown:
        normalize(raw([], provider="nobody"))
    assert getattr(unknown.value, "reason", None) == reasons.UNKNOWN_PROVIDER
    bad = raw([]) | {"payload": b"{not json"}
    with pytest.raises(Exception) as undecodable:
        normalize(bad)
    assert getattr(undecodable.value, "reason", None) == reasons.UNDECODABLE_PAYLOAD
    out = normalize(raw([{"kind": "mystery", "record": {}}]))
    assert [r.reason for r in out.rejects] == [reasons.UNKNOWN_MESSAGE]


def test_the_same_payload_without_the_marker_takes_the_live_path() -> None:
    with pytest.raises(Exception) as live:
        normalize(raw([{"kind": BAR, "record": bar()}], history=False))
    assert getattr(live.value, "reason", None) == reasons.UNKNOWN_PROVIDER


def test_the_handler_routes_each_kind_to_its_topic() -> None:
    handler = NormalizeHandler(
        "p.ticks",
        limits=Limits(),
        window=DedupWindow(120_000_000, 10_000),
        record_topics={BAR: "p.bars", SHORT_VOLUME: "p.sv", SHORT_INTEREST: "p.si"},
    )
    items = [
        {"kind": BAR, "record": bar()},
        {"kind": BAR, "record": bar(high=1.0)},
        {
            "kind": SHORT_INTEREST,
            "record": {
                "instrument": "ACME",
                "settlement_date": 19_990,
                "short_interest": 1.0,
                "received_ts": NOW,
            },
        },
    ]
    record = Consumed("raw", 0, 5, b"k", b"", raw(items))
    outcome = handler([record])
    assert [(o.topic, o.key, o.schema) for o in outcome.outputs] == [
        ("p.bars", b"testvendor|ACME", BAR),
        ("p.si", b"testvendor|ACME", SHORT_INTEREST),
    ]
    assert [r.reason for r in outcome.rejects] == [reasons.BAR_INCONSISTENT]

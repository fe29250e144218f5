"""The Yahoo history mapping: every field of the bar it makes, and the reason for each bad row."""

from typing import Any

import pytest

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.history import BAR, HistoryRow
from tickwire_normalize.domain.history.registry import HISTORY_MAPPINGS
from tickwire_normalize.domain.history.yahoo import map_row

DAY_MS = 1_736_208_000_000  # 2025-01-07 00:00 UTC, a trading date
ROW = {
    "ts": DAY_MS,
    "Open": 242.98,
    "High": 245.55,
    "Low": 241.35,
    "Close": 242.21,
    "Adj Close": 241.11,
    "Volume": 40856000,
    "exchange_timezone": "America/New_York",
}


def history(message: Any, feed: str = "ohlcv:1d", instrument: str = "aapl") -> HistoryRow:
    return HistoryRow("yahoo", feed, instrument, DAY_MS * 1000 + 86_400_000_000, message)


def test_a_row_becomes_one_vendor_bar() -> None:
    [mapped] = map_row(history(ROW))
    assert mapped.kind == BAR
    assert mapped.record == {
        "provider": "yahoo",
        "instrument": "AAPL",
        "interval": "1d",
        "start_ts": DAY_MS * 1000,
        "open": 242.98,
        "high": 245.55,
        "low": 241.35,
        "close": 242.21,
        "volume": 40856000.0,
        "tick_count": 0,
        "source": "yahoo",
        "adj_close": 241.11,
    }


@pytest.mark.parametrize(
    ("feed", "interval"),
    [("ohlcv:1d", "1d"), ("ohlcv:1h", "1h"), ("ohlcv:5m", "5m"), ("ohlcv:1m", "1m")],
)
def test_the_feed_names_the_interval(feed: str, interval: str) -> None:
    [mapped] = map_row(history(ROW, feed=feed))
    assert mapped.record["interval"] == interval


def test_class_shares_keep_yahoos_spelling() -> None:
    [mapped] = map_row(history(ROW, instrument=" brk-b "))
    assert mapped.record["instrument"] == "BRK-B"


def test_a_missing_adjusted_close_is_null() -> None:
    [mapped] = map_row(history({**ROW, "Adj Close": None}))
    assert mapped.record["adj_close"] is None


def test_the_mapping_is_registered_for_the_provider() -> None:
    assert HISTORY_MAPPINGS["yahoo"] is map_row


def reason(message: Any, **options: str) -> str:
    with pytest.raises(RejectedRecord) as caught:
        map_row(history(message, **options))
    return caught.value.reason


HALTED = {**ROW, **dict.fromkeys(("Open", "High", "Low", "Close", "Adj Close")), "Volume": 0}


@pytest.mark.parametrize(
    ("message", "options", "expected"),
    [
        (HALTED, {}, reasons.MISSING_VALUE),  # Yahoo's nulls for a day without trading
        ({**ROW, "Close": None}, {}, reasons.MISSING_VALUE),
        ({k: v for k, v in ROW.items() if k != "Volume"}, {}, reasons.MISSING_VALUE),
        ({**ROW, "High": "n/a"}, {}, reasons.UNDECODABLE_PAYLOAD),
        ({**ROW, "Low": True}, {}, reasons.UNDECODABLE_PAYLOAD),
        ({**ROW, "Open": 1e400}, {}, reasons.NON_FINITE),
        ({**ROW, "ts": None}, {}, reasons.MISSING_IDENTITY),
        ({**ROW, "ts": "yesterday"}, {}, reasons.UNDECODABLE_PAYLOAD),
        (ROW, {"instrument": "  "}, reasons.MISSING_IDENTITY),
        (ROW, {"feed": "ohlcv:15m"}, reasons.UNKNOWN_MESSAGE),
        ([242.98, 245.55], {}, reasons.UNDECODABLE_PAYLOAD),
        ("not json", {}, reasons.UNDECODABLE_PAYLOAD),
    ],
)
def test_bad_rows_are_rejected_with_a_reason(
    message: Any, options: dict[str, str], expected: str
) -> None:
    assert reason(message, **options) == expected

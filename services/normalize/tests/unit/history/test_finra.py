"""The FINRA history mappings: a Reg SHO daily file row becomes a short_volume record and a
consolidated short interest row a short_interest record (every field, symbols as Yahoo writes
them), and each kind of bad row is rejected with its reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tickwire_core.errors import RejectedRecord
from tickwire_core.serde import AvroSerde
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.history import (
    SHORT_INTEREST,
    SHORT_VOLUME,
    HistoryRow,
    Mapped,
    finra,
)
from tickwire_normalize.domain.history.registry import HISTORY_MAPPINGS

FIXTURES = Path(__file__).resolve().parents[5] / "tests" / "fixtures" / "vendors" / "finra"
RECEIVED = 1_704_326_400_000_000  # 2024-01-04T00:00Z
JAN_2_2024 = 19_724  # days since 1970-01-01


def daily_row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "Date": "20240102",
        "Symbol": "BRK/B",
        "ShortVolume": "511290",
        "ShortExemptVolume": "2203",
        "TotalVolume": "1420007",
        "Market": "B,Q,N",
        "_file": "CNMSshvol20240102.txt",
    }
    row.update(changes)
    return {k: v for k, v in row.items() if v is not None}


def interest_row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = json.loads(
        (FIXTURES / "short_interest_2024-01-01_page1.json").read_text()
    )[1]
    row.update(changes)
    return row


def mapped(message: Any, feed: str = "regsho") -> list[Mapped]:
    return finra.map_row(HistoryRow("finra", feed, "BRK/B", RECEIVED, message))


def rejected(message: Any, feed: str = "regsho") -> RejectedRecord:
    with pytest.raises(RejectedRecord) as caught:
        mapped(message, feed)
    return caught.value


def test_finra_is_registered() -> None:
    assert HISTORY_MAPPINGS["finra"] is finra.map_row


def test_a_daily_file_row_is_one_short_volume_record() -> None:
    assert mapped(daily_row()) == [
        Mapped(
            SHORT_VOLUME,
            {
                "provider": "finra",
                "instrument": "BRK-B",
                "facility": "CNMS",
                "trade_date": JAN_2_2024,
                "short_volume": 511290.0,
                "short_exempt_volume": 2203.0,
                "total_volume": 1420007.0,
                "market": "B,Q,N",
                "received_ts": RECEIVED,
            },
        )
    ]


def test_a_five_column_row_has_no_short_exempt_volume() -> None:
    row = daily_row(ShortExemptVolume=None, Date="20110225", _file="FNYXshvol20110225.txt")
    (record,) = mapped(row)
    assert record.record["short_exempt_volume"] is None
    assert record.record["facility"] == "FNYX"
    assert record.record["trade_date"] == 15_030  # 2011-02-25


def test_fractional_share_volumes_are_kept() -> None:
    (record,) = mapped(daily_row(ShortVolume="380591.095732", TotalVolume="631970.726692"))
    assert record.record["short_volume"] == pytest.approx(380591.095732)


def test_records_encode_with_their_schemas() -> None:
    serde = AvroSerde()
    for record in mapped(daily_row()) + mapped(interest_row(), "short_interest"):
        assert serde.encode(record.kind, record.record)


@pytest.mark.parametrize(
    ("vendor", "unified"),
    [
        ("BRK/B", "BRK-B"),
        ("BRK.B", "BRK-B"),
        ("ABRpD", "ABR-PD"),
        ("AAPL", "AAPL"),
        ("AAC/WS", "AAC-WS"),
    ],
)
def test_symbols_as_yahoo_writes_them(vendor: str, unified: str) -> None:
    assert finra.unified_symbol(vendor) == unified


def test_a_short_interest_row_is_one_short_interest_record() -> None:
    assert mapped(interest_row(), "short_interest") == [
        Mapped(
            SHORT_INTEREST,
            {
                "provider": "finra",
                "instrument": "AAPL",
                "settlement_date": 19_734,  # 2024-01-12
                "short_interest": 102305115.0,
                "previous_short_interest": 98764302.0,
                "average_daily_volume": 51203877.0,
                "days_to_cover": 2.0,
                "market": "NNM",
                "received_ts": RECEIVED,
            },
        )
    ]


def test_short_interest_optional_values_may_be_absent() -> None:
    row = interest_row(
        previousShortPositionQuantity=None,
        averageDailyVolumeQuantity="",
        daysToCoverQuantity=None,
        marketClassCode=None,
        symbolCode="BRK.B",
    )
    record = mapped(row, "short_interest")[0].record
    assert (record["previous_short_interest"], record["average_daily_volume"]) == (None, None)
    assert (record["days_to_cover"], record["market"], record["instrument"]) == (None, "", "BRK-B")


def test_numbers_as_strings_are_read_too() -> None:
    row = interest_row(currentShortPositionQuantity="154350", daysToCoverQuantity="6.18")
    record = mapped(row, "short_interest")[0].record
    assert (record["short_interest"], record["days_to_cover"]) == (154350.0, 6.18)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("20240102|A|1|0|2|Q", reasons.UNDECODABLE_PAYLOAD),
        (daily_row(ShortVolume="n/a"), reasons.UNDECODABLE_PAYLOAD),
        (daily_row(ShortVolume=None), reasons.MISSING_VALUE),
        (daily_row(TotalVolume=""), reasons.MISSING_VALUE),
        (daily_row(Market=None), reasons.MISSING_VALUE),
        (daily_row(ShortExemptVolume="x"), reasons.UNDECODABLE_PAYLOAD),
        (daily_row(ShortVolume="-5"), reasons.NEGATIVE_SIZE),
        (daily_row(TotalVolume="inf"), reasons.NON_FINITE),
        (daily_row(ShortVolume="2000000"), reasons.INCONSISTENT_VOLUME),
        (daily_row(ShortExemptVolume="600000"), reasons.INCONSISTENT_VOLUME),
        (daily_row(Symbol=""), reasons.MISSING_IDENTITY),
        (daily_row(Symbol="BRK B"), reasons.MISSING_IDENTITY),
        (daily_row(Date="2024-01-02"), reasons.MISSING_IDENTITY),
        (daily_row(Date="20240231"), reasons.MISSING_IDENTITY),
        (daily_row(_file=None), reasons.MISSING_IDENTITY),
        (daily_row(_extra=["Q"]), reasons.UNDECODABLE_PAYLOAD),
    ],
)
def test_bad_daily_rows(message: Any, reason: str) -> None:
    assert rejected(message).reason == reason


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ([1, 2], reasons.UNDECODABLE_PAYLOAD),
        (interest_row(currentShortPositionQuantity=None), reasons.MISSING_VALUE),
        (interest_row(currentShortPositionQuantity="x"), reasons.UNDECODABLE_PAYLOAD),
        (interest_row(averageDailyVolumeQuantity=-1), reasons.NEGATIVE_SIZE),
        (interest_row(daysToCoverQuantity=True), reasons.UNDECODABLE_PAYLOAD),
        (interest_row(symbolCode=None), reasons.MISSING_IDENTITY),
        (interest_row(settlementDate="20240112"), reasons.MISSING_IDENTITY),
        (interest_row(settlementDate=None), reasons.MISSING_IDENTITY),
    ],
)
def test_bad_short_interest_rows(message: Any, reason: str) -> None:
    assert rejected(message, "short_interest").reason == reason


def test_an_unknown_feed_is_an_unknown_message() -> None:
    assert rejected(daily_row(), "trades").reason == reasons.UNKNOWN_MESSAGE

"""FINRA's pure pieces: daily file names, reading a daily file (five or six columns, trailer,
truncation, rows as they came), the business-day walk, short interest windows, bodies, paging."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tickwire_ingest.domain.history import finra

FIXTURES = Path(__file__).resolve().parents[4] / "tests" / "fixtures" / "vendors" / "finra"


def test_file_name_and_path_of_a_day() -> None:
    assert finra.file_name(date(2024, 1, 2)) == "CNMSshvol20240102.txt"
    assert (
        finra.file_path(date(2011, 2, 25), "FNYX") == "/equity/regsho/daily/FNYXshvol20110225.txt"
    )


def test_six_column_file_rows_are_keyed_by_its_header() -> None:
    text = (FIXTURES / "CNMSshvol20240102.txt").read_text()
    daily = finra.parse_daily_file("CNMSshvol20240102.txt", text)
    assert daily.header == [
        "Date", "Symbol", "ShortVolume", "ShortExemptVolume", "TotalVolume", "Market"
    ]  # fmt: skip
    assert len(daily.rows) == 3
    assert daily.rows[2] == {
        "Date": "20240102",
        "Symbol": "BRK/B",
        "ShortVolume": "511290",
        "ShortExemptVolume": "2203",
        "TotalVolume": "1420007",
        "Market": "B,Q,N",
        "_file": "CNMSshvol20240102.txt",
    }


def test_five_column_file_has_no_short_exempt_volume() -> None:
    daily = finra.parse_daily_file(
        "FNYXshvol20110225.txt", (FIXTURES / "FNYXshvol20110225.txt").read_text()
    )
    assert daily.header == ["Date", "Symbol", "ShortVolume", "TotalVolume", "Market"]
    assert daily.rows[0] == {
        "Date": "20110225",
        "Symbol": "AA",
        "ShortVolume": "1405220",
        "TotalVolume": "5122301",
        "Market": "N",
        "_file": "FNYXshvol20110225.txt",
    }


def test_fractional_volumes_and_crlf_lines_pass_as_strings() -> None:
    text = "Date|Symbol|ShortVolume|ShortExemptVolume|TotalVolume|Market\r\n"
    text += "20260105|A|380591.095732|11|631970.726692|B,Q,N\r\n1\r\n"
    (row,) = finra.parse_daily_file("CNMSshvol20260105.txt", text).rows
    assert (row["ShortVolume"], row["TotalVolume"]) == ("380591.095732", "631970.726692")


def test_a_holiday_file_with_header_and_zero_trailer_is_empty() -> None:
    text = "Date|Symbol|ShortVolume|ShortExemptVolume|TotalVolume|Market\n0\n"
    assert finra.parse_daily_file("x", text).rows == []


@pytest.mark.parametrize(
    ("fixture", "complaint"),
    [
        ("CNMSshvol20240104_truncated.txt", "no trailer"),
        ("CNMSshvol20240104_count_mismatch.txt", "trailer says 5 records, the file has 3"),
    ],
)
def test_a_truncated_file_is_refused(fixture: str, complaint: str) -> None:
    with pytest.raises(finra.BadFile, match=complaint):
        finra.parse_daily_file(fixture, (FIXTURES / fixture).read_text())


@pytest.mark.parametrize("text", ["", "<html>Please sign in</html>\n", "a|b\n1|2\n1\n"])
def test_a_body_without_the_header_is_refused(text: str) -> None:
    with pytest.raises(finra.BadFile, match="no header"):
        finra.parse_daily_file("x", text)


def test_a_malformed_row_comes_as_it_is() -> None:
    text = "Date|Symbol|ShortVolume|ShortExemptVolume|TotalVolume|Market\n"
    text += "20240103|BAD|n/a|0|1200|Q\n20240103|SHORT|1\n20240103|LONG|1|0|2|Q|extra\n3\n"
    rows = finra.parse_daily_file("f", text).rows
    assert rows[0]["ShortVolume"] == "n/a"
    assert rows[1] == {"Date": "20240103", "Symbol": "SHORT", "ShortVolume": "1", "_file": "f"}
    assert rows[2]["_extra"] == ["extra"] and rows[2]["Market"] == "Q"


def test_business_days_skip_weekends_only() -> None:
    days = list(finra.business_days(date(2023, 12, 29), date(2024, 1, 3)))
    assert days == [date(2023, 12, 29), date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)]
    assert finra.next_business_day(date(2023, 12, 29)) == date(2024, 1, 1)


def test_first_day_is_the_first_midnight_at_or_after_since() -> None:
    midnight = finra.midnight_us(date(2024, 1, 2))
    assert finra.first_day_from(midnight) == date(2024, 1, 2)
    assert finra.first_day_from(midnight + 1) == date(2024, 1, 3)


def test_a_file_is_due_after_six_pm_eastern() -> None:
    assert finra.posted_by(date(2024, 1, 2)) == datetime(2024, 1, 2, 23, tzinfo=UTC)


def test_spellings_of_a_symbol_as_finra_may_write_it() -> None:
    assert finra.finra_spellings("BRK-B") == {"BRK-B", "BRK/B", "BRK.B"}
    assert finra.finra_spellings("brk/b") == {"BRK-B", "BRK/B", "BRK.B"}
    assert "ABRpD" in finra.finra_spellings("ABR-PD")
    assert finra.finra_spellings("AAPL") == {"AAPL"}


def test_requested_symbols() -> None:
    assert finra.requested_symbols("*") is None
    assert finra.requested_symbols("MSFT, AAPL,,AAPL") == ["AAPL", "MSFT"]


def test_half_months_hold_one_settlement_date_each() -> None:
    windows = list(finra.half_months(date(2024, 1, 10), date(2024, 2, 20)))
    assert [(w.first, w.last) for w in windows] == [
        (date(2024, 1, 10), date(2024, 1, 15)),
        (date(2024, 1, 16), date(2024, 1, 31)),
        (date(2024, 2, 1), date(2024, 2, 15)),
        (date(2024, 2, 16), date(2024, 2, 20)),
    ]
    (leap,) = finra.half_months(date(2024, 2, 16), date(2024, 2, 29))
    assert leap.last == date(2024, 2, 29)


def test_short_interest_body_for_all_and_for_some_symbols() -> None:
    window = finra.Window(date(2024, 1, 1), date(2024, 1, 15))
    assert finra.short_interest_body(window, None, 0) == {
        "limit": 5000,
        "offset": 0,
        "dateRangeFilters": [
            {"fieldName": "settlementDate", "startDate": "2024-01-01", "endDate": "2024-01-16"}
        ],
    }
    body = finra.short_interest_body(window, ["BRK-B", "AAPL"], 5000, limit=100)
    assert (body["offset"], body["limit"]) == (5000, 100)
    assert body["domainFilters"] == [
        {"fieldName": "symbolCode", "values": ["AAPL", "BRK-B", "BRK.B", "BRK/B"]}
    ]


@pytest.mark.parametrize(
    ("offset", "received", "total", "expected"),
    [
        (0, 5000, 12000, 5000),
        (5000, 5000, 12000, 10000),
        (10000, 2000, 12000, None),
        (0, 1800, 12000, 1800),  # the 3 MB cap: fewer rows than asked, not the end
        (0, 0, 12000, None),
        (0, 5000, None, 5000),
        (5000, 0, None, None),
    ],
)
def test_next_offset(offset: int, received: int, total: int | None, expected: int | None) -> None:
    assert finra.next_offset(offset, received, total) == expected


def test_an_empty_window_is_final_only_three_weeks_after_it() -> None:
    end = date(2024, 1, 31)  # published on 2024-02-09, the 7th business day after
    assert not finra.window_complete(end, datetime(2024, 2, 15, tzinfo=UTC))
    assert finra.window_complete(end, datetime(2024, 2, 22, tzinfo=UTC))


def test_symbols_seen_under_any_spelling() -> None:
    seen = finra.SymbolsSeen(["AAPL", "BRK-B", "ZZZZ"])
    assert seen.wanted is not None and "BRK/B" in seen.wanted
    seen.saw("BRK/B")
    seen.saw("AAPL")
    assert seen.missing() == ["ZZZZ"]
    assert finra.SymbolsSeen(None).wanted is None


@pytest.mark.parametrize(
    ("text", "rows"),
    [("[]", []), ("", []), ('[{"a": 1}, 2]', [{"a": 1}, 2]), ('[{"a": 1', None), ("{}", None)],
)
def test_json_rows(text: str, rows: list[object] | None) -> None:
    assert finra.json_rows(text) == rows


def test_record_total_and_settlement_ts() -> None:
    assert (finra.record_total("12000"), finra.record_total(None), finra.record_total("x")) == (
        12000,
        None,
        None,
    )
    assert finra.settlement_ts({"settlementDate": "2024-01-12"}, 0) == finra.midnight_us(
        date(2024, 1, 12)
    )
    assert finra.settlement_ts({"settlementDate": None}, 7) == 7
    assert finra.settlement_ts("junk", 7) == 7

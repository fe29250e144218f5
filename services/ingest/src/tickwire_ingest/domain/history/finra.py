"""FINRA short-sale data without I/O: the Reg SHO daily file of a day and how to read it (header
driven, trailer checked), the days worth asking for, and the Query API bodies for short interest."""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

DAY_US = 86_400_000_000
FILES_URL = "https://cdn.finra.org"
API_URL = "https://api.finra.org"
DAILY_DIR = "/equity/regsho/daily"
# The consolidated NMS file: every TRF and the ADF in one file, from 2018-08-01 on.
CONSOLIDATED = "CNMS"
CONSOLIDATED_FROM = date(2018, 8, 1)
# The per-facility files go back to FINRA's first Reg SHO files of August 2009.
FACILITY_FROM = date(2009, 8, 1)
# The Query API's short interest reaches back at least to 2018 (FINRA's own example of 2019
# asks for 2018-06-15); exchange-listed issues are in it from June 2021 on.
SHORT_INTEREST_FROM = date(2018, 1, 1)
SHORT_INTEREST_PATH = "/data/group/otcMarket/name/consolidatedShortInterest"
# FINRA answers at most 5000 records (and at most 3 MB) per request.
MAX_PAGE = 5000

# FINRA posts a day's file no later than 18:00 ET; 23:00 UTC is after that in summer and winter.
_POSTED_BY = timedelta(hours=23)
# A file missing this long after it was due is a day without one (a holiday), not a late file.
LATE_GRACE = timedelta(days=1)
# Short interest of a settlement date is published on the 7th business day after it (8th in
# older notices); a half month still empty three weeks after its end had no matching rows.
SHORT_INTEREST_GRACE = timedelta(days=21)


class BadFile(Exception):
    """A daily file that cannot be whole: no header, no trailer, or a count that disagrees."""


@dataclass(frozen=True)
class DailyFile:
    name: str
    header: list[str]
    rows: list[dict[str, Any]]  # one per data line: header name -> the string in the file


def file_name(day: date, facility: str = CONSOLIDATED) -> str:
    return f"{facility}shvol{day:%Y%m%d}.txt"


def file_path(day: date, facility: str = CONSOLIDATED) -> str:
    return f"{DAILY_DIR}/{file_name(day, facility)}"


def parse_daily_file(name: str, text: str) -> DailyFile:
    """The rows of a daily file, keyed by the file's own header names (five columns before
    2011-02-28, six since), each with the file name under `_file`. The last line is the trailer,
    the number of records; without it, or when it disagrees, the file was cut short."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines or "Symbol" not in lines[0].split("|"):
        raise BadFile(f"{name}: no header line with a Symbol column")
    header = lines[0].split("|")
    if len(lines) < 2 or not lines[-1].strip().isdigit():
        raise BadFile(f"{name}: no trailer (record count) after the last row")
    expected = int(lines[-1].strip())
    body = [line for line in lines[1:-1] if line.strip()]
    if len(body) != expected:
        raise BadFile(f"{name}: trailer says {expected} records, the file has {len(body)}")
    return DailyFile(name, header, [_row(name, header, line) for line in body])


def _row(name: str, header: list[str], line: str) -> dict[str, Any]:
    # A row as it came: a short row lacks the last columns, a long one keeps its surplus apart,
    # so that normalize can name what is wrong with it.
    values = line.split("|")
    row: dict[str, Any] = dict(zip(header, values, strict=False))
    if len(values) > len(header):
        row["_extra"] = values[len(header) :]
    row["_file"] = name
    return row


def business_days(first: date, last: date) -> Iterator[date]:
    """Monday to Friday from first to last, both included: FINRA posts no weekend files."""
    day = first
    while day <= last:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


def day_of(ts_us: int) -> date:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ts_us)).date()


def midnight_us(day: date) -> int:
    return (day - date(1970, 1, 1)).days * DAY_US


def first_day_from(ts_us: int) -> date:
    """The first day whose midnight is at or after ts_us (rows are stamped at midnight)."""
    day = day_of(ts_us)
    return day if midnight_us(day) >= ts_us else day + timedelta(days=1)


def posted_by(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + _POSTED_BY


def next_business_day(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


# --- the symbol as a user writes it and as FINRA writes it --------------------------------------

_PREFERRED = re.compile(r"^([A-Z]+)-P([A-Z]?)$")


def finra_spellings(symbol: str) -> set[str]:
    """How FINRA may write a symbol the user wrote Yahoo's way (BRK-B, ABR-PD) or FINRA's way:
    class shares with a slash (BRK/B) or a dot (BRK.B), preferreds with a lower-case p (ABRpD)."""
    yahoo = re.sub(r"[./]", "-", symbol.strip().upper())
    spellings = {yahoo, yahoo.replace("-", "/"), yahoo.replace("-", ".")}
    preferred = _PREFERRED.match(yahoo)
    if preferred:
        spellings.add(f"{preferred.group(1)}p{preferred.group(2)}")
    return spellings


class SymbolsSeen:
    """Which requested symbols came back in some row, under any of their spellings."""

    def __init__(self, symbols: list[str] | None) -> None:
        self._spellings = {s: finra_spellings(s) for s in symbols or []}
        # None: every symbol is wanted.
        self.wanted = set().union(*self._spellings.values()) if self._spellings else None
        self._seen: set[str] = set()

    def saw(self, vendor_symbol: str) -> None:
        self._seen.add(vendor_symbol)

    def missing(self) -> list[str]:
        return [s for s, names in self._spellings.items() if not names & self._seen]


def requested_symbols(instrument: str) -> list[str] | None:
    """None for "*" (every symbol), else the symbols of a comma-joined list."""
    if instrument.strip() == "*":
        return None
    return sorted({s.strip() for s in instrument.split(",") if s.strip()})


# --- short interest: half-month windows and Query API bodies ------------------------------------


@dataclass(frozen=True)
class Window:
    """Settlement dates first..last (both included): each half month holds one settlement date,
    the 15th (or the business day before it) or the month's last business day."""

    first: date
    last: date


def half_months(first: date, last: date) -> Iterator[Window]:
    """The half-month windows that cover first..last, clipped to them."""
    day = first
    while day <= last:
        if day.day <= 15:
            end = date(day.year, day.month, 15)
        else:
            end = date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
        yield Window(day, min(end, last))
        day = end + timedelta(days=1)


def window_complete(window_end: date, now: datetime) -> bool:
    """Whether an empty answer for a window ending at window_end can be trusted as final."""
    return now >= posted_by(window_end) + SHORT_INTEREST_GRACE


def short_interest_body(
    window: Window, symbols: list[str] | None, offset: int, limit: int = MAX_PAGE
) -> dict[str, Any]:
    """The POST body for one page of consolidated short interest of one window. FINRA does not
    say whether a date range includes its end, so the range ends a day late: the 16th and the
    1st are never settlement dates, so nothing more comes back (the source drops any row
    outside the window all the same)."""
    body: dict[str, Any] = {
        "limit": limit,
        "offset": offset,
        "dateRangeFilters": [
            {
                "fieldName": "settlementDate",
                "startDate": window.first.isoformat(),
                "endDate": (window.last + timedelta(days=1)).isoformat(),
            }
        ],
    }
    if symbols is not None:
        values = sorted({spelling for s in symbols for spelling in finra_spellings(s)})
        body["domainFilters"] = [{"fieldName": "symbolCode", "values": values}]
    return body


def next_offset(offset: int, received: int, total: int | None) -> int | None:
    """The offset of the next page, or None when the window is done. FINRA may send fewer rows
    than asked (its 3 MB cap), so the offset moves by what came, and Record-Total says when to
    stop; without that header, an empty page does."""
    if received == 0:
        return None
    offset += received
    if total is not None and offset >= total:
        return None
    return offset


def record_total(value: str | None) -> int | None:
    """The Record-Total header: how many records the query matches in all."""
    return int(value) if value is not None and value.strip().isdigit() else None


def json_rows(text: str) -> list[Any] | None:
    """A page's items as they came; None when the body is not a whole JSON array (cut off in
    transit). An empty body is an empty page."""
    if not text.strip():
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def settlement_ts(item: Any, fallback_ts: int) -> int:
    """The row's settlement date at midnight; a row without a readable one keeps the window's
    start, so it still goes out (and normalize dead-letters it)."""
    value = item.get("settlementDate") if isinstance(item, dict) else None
    try:
        day = datetime.strptime(str(value)[:10], "%Y-%m-%d").date()
    except ValueError:
        return fallback_ts
    return midnight_us(day)

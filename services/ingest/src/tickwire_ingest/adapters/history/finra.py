"""FINRA's short-sale data as history sources: the Reg SHO daily consolidated files (one file a
day serves every symbol) and consolidated short interest from FINRA's Query API (no key)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from tickwire_ingest.adapters.history.http import RetryPolicy, VendorHttp
from tickwire_ingest.domain.history import finra
from tickwire_ingest.domain.history.pages import (
    Page,
    Request,
    SourceUnavailable,
    UnknownInstrument,
    VendorRow,
)

logger = logging.getLogger(__name__)

PROVIDER = "finra"
REGSHO = "regsho"
SHORT_INTEREST = "short_interest"

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _check_dataset(request: Request, dataset: str) -> None:
    if request.dataset != dataset:
        raise SourceUnavailable(f"finra: no dataset {request.dataset!r}; it serves {dataset}")


class _Backoff:
    """Waits between fetches of an answer that came back cut short (the same policy's waits)."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def wait(self, attempt: int) -> None:
        time.sleep(min(self.policy.max_s, self.policy.initial_s * 2**attempt))


class FinraShortVolumeSource:
    """Reg SHO daily short sale volume, consolidated NMS file (CNMSshvolYYYYMMDD.txt) unless
    another facility's file is asked for (FNYX, FNSQ, FNQC, FNRA, FORF: these go back before
    2011, with five columns then). Grouped: one file a day holds every symbol; the request names
    "*" or a comma-joined list of the symbols to keep."""

    name = "finra-short-volume"
    grouped = True

    def __init__(
        self,
        base_url: str | None = None,
        policy: RetryPolicy | None = None,
        facility: str = finra.CONSOLIDATED,
        clock: Clock | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.facility = facility
        self._http = VendorHttp("finra", base_url or finra.FILES_URL, self.policy)
        self._clock = clock or _utc_now
        self._backoff = _Backoff(self.policy)

    def datasets(self) -> list[str]:
        return [REGSHO]

    def earliest(self, dataset: str) -> int:
        """Where a first run starts without --since: the first file of the facility, so that a
        full load does not ask for the years before it, day by day."""
        first = (
            finra.CONSOLIDATED_FROM if self.facility == finra.CONSOLIDATED else finra.FACILITY_FROM
        )
        return finra.midnight_us(first)

    def fetch(self, request: Request) -> Iterator[Page]:
        _check_dataset(request, REGSHO)
        found = finra.SymbolsSeen(finra.requested_symbols(request.instrument))
        if request.until <= request.since:
            return
        first = finra.first_day_from(request.since)
        last = finra.day_of(request.until - 1)
        files_with_rows = 0
        for day in finra.business_days(first, last):
            now = self._clock()
            if now < finra.posted_by(day):
                return  # not due yet: the watermark stays before it
            daily = self._file(day, now)
            if daily is None:
                return  # due but not there yet: asked again next run
            files_with_rows += bool(daily.rows)
            covered = min(request.until, finra.midnight_us(finra.next_business_day(day)))
            yield Page(self._rows(day, daily, found), covered)
        missing = found.missing()
        # Only files with rows say anything about a symbol: holidays alone are an empty range.
        if files_with_rows and missing:
            raise UnknownInstrument(
                f"finra: {', '.join(missing)} in no Reg SHO daily file from {first} to {last}"
            )

    def _file(self, day: date, now: datetime) -> finra.DailyFile | None:
        """The day's file; an empty one for a day FINRA posted none (403 long after it was due:
        a holiday); None for one that is due but not there yet (403 within the grace)."""
        name = finra.file_name(day, self.facility)
        path = finra.file_path(day, self.facility)
        for attempt in range(self.policy.attempts):
            response = self._http.get(path)
            if response.status_code == 403:
                # FINRA's CDN answers 403, not 404, for a file it does not have.
                if now < finra.posted_by(day) + finra.LATE_GRACE:
                    logger.info("finra: %s not posted yet, stopping before it", name)
                    return None
                logger.info("finra: no file %s (a market holiday)", name)
                return finra.DailyFile(name, [], [])
            if response.status_code != 200:
                raise SourceUnavailable(f"finra: GET {path} answered HTTP {response.status_code}")
            try:
                return finra.parse_daily_file(name, response.text)
            except finra.BadFile as exc:
                logger.warning("finra: %s (attempt %d), fetching it again", exc, attempt + 1)
                if attempt + 1 < self.policy.attempts:
                    self._backoff.wait(attempt)
        raise SourceUnavailable(f"finra: {name} came back incomplete {self.policy.attempts} times")

    def _rows(self, day: date, daily: finra.DailyFile, found: finra.SymbolsSeen) -> list[VendorRow]:
        ts = finra.midnight_us(day)
        rows = []
        for row in daily.rows:
            symbol = row.get("Symbol")
            vendor_symbol = symbol if isinstance(symbol, str) else ""
            if found.wanted is not None and vendor_symbol not in found.wanted:
                continue
            found.saw(vendor_symbol)
            rows.append(
                VendorRow(
                    provider=PROVIDER,
                    feed=REGSHO,
                    instrument=vendor_symbol,
                    payload=json.dumps(row, separators=(",", ":")).encode(),
                    ts=ts,
                )
            )
        return rows

    def close(self) -> None:
        self._http.close()


class FinraShortInterestSource:
    """Consolidated short interest (Query API, group otcMarket) by settlement date. Grouped: one
    query per half month serves every symbol, or the requested ones through a domain filter,
    so a full load is a few dozen requests instead of one series per symbol."""

    name = "finra-short-interest"
    grouped = True

    def __init__(
        self,
        base_url: str | None = None,
        policy: RetryPolicy | None = None,
        page_size: int = finra.MAX_PAGE,
        clock: Clock | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._http = VendorHttp(
            "finra",
            base_url or finra.API_URL,
            self.policy,
            headers={"Accept": "application/json", "Content-Type": "application/json"},
        )
        self._page_size = min(page_size, finra.MAX_PAGE)
        self._clock = clock or _utc_now
        self._backoff = _Backoff(self.policy)

    def datasets(self) -> list[str]:
        return [SHORT_INTEREST]

    def earliest(self, dataset: str) -> int:
        return finra.midnight_us(finra.SHORT_INTEREST_FROM)

    def fetch(self, request: Request) -> Iterator[Page]:
        _check_dataset(request, SHORT_INTEREST)
        symbols = finra.requested_symbols(request.instrument)
        found = finra.SymbolsSeen(symbols)
        if request.until <= request.since:
            return
        first = finra.first_day_from(request.since)
        last = finra.day_of(request.until - 1)
        complete_windows = 0
        for window in finra.half_months(first, last):
            start_us = finra.midnight_us(window.first)
            end_us = min(request.until, finra.midnight_us(window.last) + finra.DAY_US)
            any_rows = False
            offset: int | None = 0
            while offset is not None:
                items, offset = self._page(window, symbols, offset)
                rows = self._rows(items, start_us, end_us, found)
                any_rows = any_rows or bool(rows)
                if offset is not None:
                    # More of this window to come: the watermark stays at its start.
                    yield Page(rows, start_us)
                    continue
                if not any_rows and not finra.window_complete(window.last, self._clock()):
                    return  # nothing published for it yet: asked again next run
                complete_windows += 1
                yield Page(rows, end_us)
        missing = found.missing()
        if complete_windows and missing:
            raise UnknownInstrument(
                f"finra: {', '.join(missing)} in no consolidated short interest from "
                f"{first} to {last}"
            )

    def _page(
        self, window: finra.Window, symbols: list[str] | None, offset: int
    ) -> tuple[list[Any], int | None]:
        body = finra.short_interest_body(window, symbols, offset, self._page_size)
        for attempt in range(self.policy.attempts):
            response = self._http.post(finra.SHORT_INTEREST_PATH, json=body)
            if response.status_code == 204:
                return [], None  # no content: nothing matched
            if response.status_code != 200:
                raise SourceUnavailable(
                    f"finra: POST {finra.SHORT_INTEREST_PATH} answered HTTP "
                    f"{response.status_code}: {response.text[:200]}"
                )
            total = finra.record_total(response.headers.get("Record-Total"))
            rows = finra.json_rows(response.text)
            if rows is not None and not (not rows and total is not None and offset < total):
                return rows, finra.next_offset(offset, len(rows), total)
            logger.warning(
                "finra: short interest page at offset %d came back incomplete (attempt %d)",
                offset,
                attempt + 1,
            )
            if attempt + 1 < self.policy.attempts:
                self._backoff.wait(attempt)
        raise SourceUnavailable(
            f"finra: short interest {window.first}..{window.last} offset {offset} came back "
            f"incomplete {self.policy.attempts} times"
        )

    def _rows(
        self, items: list[Any], start_us: int, end_us: int, found: finra.SymbolsSeen
    ) -> list[VendorRow]:
        out = []
        for item in items:
            symbol = item.get("symbolCode") if isinstance(item, dict) else None
            vendor_symbol = symbol if isinstance(symbol, str) else ""
            ts = finra.settlement_ts(item, start_us)
            if not start_us <= ts < end_us:
                continue  # the day past the window the query asked for too
            found.saw(vendor_symbol)
            out.append(
                VendorRow(
                    provider=PROVIDER,
                    feed=SHORT_INTEREST,
                    instrument=vendor_symbol,
                    payload=json.dumps(item, separators=(",", ":")).encode(),
                    ts=ts,
                )
            )
        return out

    def close(self) -> None:
        self._http.close()

"""FINRA sources against a local HTTP server answering with the fixture files: daily files with
a holiday (403), an old five-column file, truncated files, a malformed row, 429 and 5xx, short
interest in two pages, and symbols FINRA does not know."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tickwire_ingest.adapters.history.finra import FinraShortInterestSource, FinraShortVolumeSource
from tickwire_ingest.adapters.history.http import RetryPolicy
from tickwire_ingest.domain.history.finra import midnight_us
from tickwire_ingest.domain.history.pages import (
    Page,
    Request,
    SourceUnavailable,
    UnknownInstrument,
)

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[5] / "tests" / "fixtures" / "vendors" / "finra"
DAILY = "/equity/regsho/daily/"
API = "/data/group/otcMarket/name/consolidatedShortInterest"
POLICY = RetryPolicy(attempts=3, initial_s=0.01, max_s=2.0, jitter_s=0.0, timeout_s=5.0)
LONG_AFTER = datetime(2024, 6, 1, tzinfo=UTC)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def us(year: int, month: int, day: int) -> int:
    return midnight_us(date(year, month, day))


def serve_file(server: HTTPServer, name: str, body: str | None = None) -> None:
    server.expect_request(DAILY + name).respond_with_data(
        body if body is not None else fixture(name), content_type="text/plain"
    )


def serve_403(server: HTTPServer, name: str) -> None:
    server.expect_request(DAILY + name).respond_with_data(
        fixture("error_403_access_denied.xml"), status=403, content_type="application/xml"
    )


def short_volume(server: HTTPServer, now: datetime = LONG_AFTER) -> FinraShortVolumeSource:
    return FinraShortVolumeSource(server.url_for("/"), POLICY, clock=lambda: now)


def regsho(instrument: str, since: int, until: int) -> Request:
    return Request(instrument=instrument, dataset="regsho", since=since, until=until)


def payloads(pages: list[Page]) -> list[dict[str, Any]]:
    return [json.loads(row.payload) for page in pages for row in page.rows]


def asked(server: HTTPServer) -> list[str]:
    return [request.path.rsplit("/", 1)[-1] for request, _ in server.log]


# --- Reg SHO daily files --------------------------------------------------------------------------


def test_days_in_order_with_a_holiday_and_no_weekend(httpserver: HTTPServer) -> None:
    serve_file(httpserver, "CNMSshvol20231229.txt")
    serve_403(httpserver, "CNMSshvol20240101.txt")  # New Year's Day: no file
    serve_file(httpserver, "CNMSshvol20240102.txt")
    serve_file(httpserver, "CNMSshvol20240103.txt")

    pages = list(short_volume(httpserver).fetch(regsho("*", us(2023, 12, 29), us(2024, 1, 4))))

    assert asked(httpserver) == [
        "CNMSshvol20231229.txt", "CNMSshvol20240101.txt",
        "CNMSshvol20240102.txt", "CNMSshvol20240103.txt",
    ]  # fmt: skip
    assert [page.covered_until for page in pages] == [
        us(2024, 1, 1), us(2024, 1, 2), us(2024, 1, 3), us(2024, 1, 4)
    ]  # fmt: skip
    assert [len(page.rows) for page in pages] == [4, 0, 3, 4]
    first = pages[0].rows[3]
    assert (first.provider, first.feed, first.instrument) == ("finra", "regsho", "BRK/B")
    assert first.ts == us(2023, 12, 29) and first.content_type == "application/json"
    assert json.loads(first.payload) == {
        "Date": "20231229",
        "Symbol": "BRK/B",
        "ShortVolume": "402118",
        "ShortExemptVolume": "1536",
        "TotalVolume": "1197210",
        "Market": "B,Q,N",
        "_file": "CNMSshvol20231229.txt",
    }
    # The malformed row goes out as it came, for normalize to dead-letter.
    assert {"Symbol": "BAD", "ShortVolume": "n/a"}.items() <= payloads(pages)[9].items()


def test_a_list_of_symbols_keeps_only_theirs_in_any_spelling(httpserver: HTTPServer) -> None:
    serve_file(httpserver, "CNMSshvol20240102.txt")
    source = short_volume(httpserver)
    pages = list(source.fetch(regsho("AAPL,BRK-B", us(2024, 1, 2), us(2024, 1, 3))))
    assert [row.instrument for row in pages[0].rows] == ["AAPL", "BRK/B"]


def test_an_old_file_has_five_columns(httpserver: HTTPServer) -> None:
    serve_file(httpserver, "FNYXshvol20110225.txt")
    source = FinraShortVolumeSource(
        httpserver.url_for("/"), POLICY, facility="FNYX", clock=lambda: LONG_AFTER
    )
    (page,) = source.fetch(regsho("*", us(2011, 2, 25), us(2011, 2, 26)))
    assert json.loads(page.rows[0].payload) == {
        "Date": "20110225",
        "Symbol": "AA",
        "ShortVolume": "1405220",
        "TotalVolume": "5122301",
        "Market": "N",
        "_file": "FNYXshvol20110225.txt",
    }


def test_a_recent_403_is_a_file_not_posted_yet(httpserver: HTTPServer) -> None:
    serve_file(httpserver, "CNMSshvol20240102.txt")
    serve_403(httpserver, "CNMSshvol20240103.txt")
    evening = datetime(2024, 1, 3, 23, 30, tzinfo=UTC)  # due half an hour ago, not there yet
    pages = list(
        short_volume(httpserver, evening).fetch(regsho("*", us(2024, 1, 2), us(2024, 1, 4)))
    )
    assert [page.covered_until for page in pages] == [us(2024, 1, 3)]


def test_a_day_not_due_yet_is_not_asked_for(httpserver: HTTPServer) -> None:
    serve_file(httpserver, "CNMSshvol20240102.txt")
    afternoon = datetime(2024, 1, 3, 15, tzinfo=UTC)
    source = short_volume(httpserver, afternoon)
    pages = list(source.fetch(regsho("*", us(2024, 1, 2), us(2024, 1, 4))))
    assert [page.covered_until for page in pages] == [us(2024, 1, 3)]
    assert asked(httpserver) == ["CNMSshvol20240102.txt"]


def test_a_truncated_file_is_fetched_again(httpserver: HTTPServer) -> None:
    truncated = fixture("CNMSshvol20240104_truncated.txt")
    httpserver.expect_ordered_request(DAILY + "CNMSshvol20240102.txt").respond_with_data(
        truncated.replace("20240104", "20240102")
    )
    httpserver.expect_ordered_request(DAILY + "CNMSshvol20240102.txt").respond_with_data(
        fixture("CNMSshvol20240102.txt")
    )
    (page,) = short_volume(httpserver).fetch(regsho("*", us(2024, 1, 2), us(2024, 1, 3)))
    assert len(page.rows) == 3 and len(httpserver.log) == 2


def test_a_file_truncated_every_time_stops_the_run_before_it(httpserver: HTTPServer) -> None:
    serve_file(httpserver, "CNMSshvol20240103.txt")
    serve_file(httpserver, "CNMSshvol20240104.txt", fixture("CNMSshvol20240104_count_mismatch.txt"))
    pages: list[Page] = []
    with pytest.raises(SourceUnavailable, match=r"CNMSshvol20240104\.txt came back incomplete 3"):
        pages.extend(short_volume(httpserver).fetch(regsho("*", us(2024, 1, 3), us(2024, 1, 5))))
    assert [page.covered_until for page in pages] == [us(2024, 1, 4)]
    assert len(httpserver.log) == 1 + POLICY.attempts


def test_429_is_retried_after_its_retry_after(httpserver: HTTPServer) -> None:
    name = DAILY + "CNMSshvol20240102.txt"
    httpserver.expect_ordered_request(name).respond_with_data(
        "Too Many Requests", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request(name).respond_with_data(fixture("CNMSshvol20240102.txt"))
    started = time.monotonic()
    (page,) = short_volume(httpserver).fetch(regsho("*", us(2024, 1, 2), us(2024, 1, 3)))
    assert time.monotonic() - started >= 1.0
    assert len(page.rows) == 3


def test_5xx_then_success(httpserver: HTTPServer) -> None:
    name = DAILY + "CNMSshvol20240102.txt"
    httpserver.expect_ordered_request(name).respond_with_data("oops", status=503)
    httpserver.expect_ordered_request(name).respond_with_data("oops", status=500)
    httpserver.expect_ordered_request(name).respond_with_data(fixture("CNMSshvol20240102.txt"))
    (page,) = short_volume(httpserver).fetch(regsho("*", us(2024, 1, 2), us(2024, 1, 3)))
    assert len(page.rows) == 3


def test_a_first_run_starts_at_the_first_file_not_at_the_epoch() -> None:
    assert FinraShortVolumeSource().earliest("regsho") == us(2018, 8, 1)
    assert FinraShortVolumeSource(facility="FNYX").earliest("regsho") == us(2009, 8, 1)
    assert FinraShortInterestSource().earliest("short_interest") == us(2018, 1, 1)


def test_an_empty_range_asks_nothing(httpserver: HTTPServer) -> None:
    assert list(short_volume(httpserver).fetch(regsho("*", us(2024, 1, 2), us(2024, 1, 2)))) == []
    # A weekend alone: no file exists, nothing asked.
    assert list(short_volume(httpserver).fetch(regsho("*", us(2024, 1, 6), us(2024, 1, 8)))) == []
    assert httpserver.log == []


def test_a_symbol_in_no_file_is_unknown_after_the_others_went_out(httpserver: HTTPServer) -> None:
    serve_file(httpserver, "CNMSshvol20240102.txt")
    pages: list[Page] = []
    with pytest.raises(UnknownInstrument, match="ZZZZ in no Reg SHO daily file"):
        source = short_volume(httpserver)
        pages.extend(source.fetch(regsho("AAPL,ZZZZ", us(2024, 1, 2), us(2024, 1, 3))))
    assert [row.instrument for page in pages for row in page.rows] == ["AAPL"]


def test_a_single_symbol_in_no_file_is_unknown(httpserver: HTTPServer) -> None:
    serve_file(httpserver, "CNMSshvol20240102.txt")
    pages: list[Page] = []
    with pytest.raises(UnknownInstrument, match="ZZZZ in no Reg SHO daily file"):
        pages.extend(short_volume(httpserver).fetch(regsho("ZZZZ", us(2024, 1, 2), us(2024, 1, 3))))
    assert [(page.rows, page.covered_until) for page in pages] == [([], us(2024, 1, 3))]


def test_a_holiday_alone_is_an_empty_range_not_an_unknown_symbol(httpserver: HTTPServer) -> None:
    serve_403(httpserver, "CNMSshvol20240101.txt")
    pages = list(short_volume(httpserver).fetch(regsho("ZZZZ", us(2024, 1, 1), us(2024, 1, 2))))
    assert [(page.rows, page.covered_until) for page in pages] == [([], us(2024, 1, 2))]


# --- consolidated short interest --------------------------------------------------------------


def body(first: str, end: str, offset: int, limit: int, **extra: Any) -> dict[str, Any]:
    return {
        "limit": limit,
        "offset": offset,
        "dateRangeFilters": [{"fieldName": "settlementDate", "startDate": first, "endDate": end}],
        **extra,
    }


def serve_page(server: HTTPServer, query: dict[str, Any], name: str, total: int) -> None:
    server.expect_ordered_request(API, method="POST", json=query).respond_with_data(
        fixture(name), content_type="application/json", headers={"Record-Total": str(total)}
    )


def short_interest(server: HTTPServer, now: datetime = LONG_AFTER) -> FinraShortInterestSource:
    return FinraShortInterestSource(server.url_for("/"), POLICY, page_size=2, clock=lambda: now)


def si(instrument: str, since: int, until: int) -> Request:
    return Request(instrument=instrument, dataset="short_interest", since=since, until=until)


def test_two_pages_then_the_next_half_month(httpserver: HTTPServer) -> None:
    serve_page(
        httpserver,
        body("2024-01-01", "2024-01-16", 0, 2),
        "short_interest_2024-01-01_page1.json",
        3,
    )
    serve_page(
        httpserver,
        body("2024-01-01", "2024-01-16", 2, 2),
        "short_interest_2024-01-01_page2.json",
        3,
    )
    serve_page(
        httpserver, body("2024-01-16", "2024-02-01", 0, 2), "short_interest_2024-01-16.json", 2
    )

    pages = list(short_interest(httpserver).fetch(si("*", us(2024, 1, 1), us(2024, 2, 1))))

    httpserver.check_assertions()
    assert [page.covered_until for page in pages] == [
        us(2024, 1, 1),
        us(2024, 1, 16),
        us(2024, 2, 1),
    ]
    assert [[row.instrument for row in page.rows] for page in pages] == [
        ["A", "AAPL"], ["MSFT"], ["AAPL", "ZZBAD"]
    ]  # fmt: skip
    row = pages[0].rows[1]
    assert (row.provider, row.feed, row.ts) == ("finra", "short_interest", us(2024, 1, 12))
    assert json.loads(row.payload) == json.loads(fixture("short_interest_2024-01-01_page1.json"))[1]
    # The row without a short position goes out as it came.
    assert json.loads(pages[2].rows[1].payload)["currentShortPositionQuantity"] is None


def test_symbols_go_in_a_domain_filter_in_finra_spellings(httpserver: HTTPServer) -> None:
    filters = [{"fieldName": "symbolCode", "values": ["AAPL", "BRK-B", "BRK.B", "BRK/B"]}]
    query = body("2024-01-16", "2024-02-01", 0, 2, domainFilters=filters)
    # What FINRA answers to that filter: the fixture's AAPL row alone.
    aapl = json.loads(fixture("short_interest_2024-01-16.json"))[:1]
    httpserver.expect_request(API, method="POST", json=query).respond_with_json(
        aapl, headers={"Record-Total": "1"}
    )
    pages: list[Page] = []
    with pytest.raises(UnknownInstrument, match="BRK-B in no consolidated short interest"):
        source = short_interest(httpserver)
        pages.extend(source.fetch(si("BRK-B,AAPL", us(2024, 1, 16), us(2024, 2, 1))))
    assert [row.instrument for page in pages for row in page.rows] == ["AAPL"]
    assert pages[-1].covered_until == us(2024, 2, 1)


def test_an_unknown_symbol_is_an_empty_answer_then_unknown(httpserver: HTTPServer) -> None:
    filters = [{"fieldName": "symbolCode", "values": ["ZZZZ"]}]
    serve_page(
        httpserver,
        body("2024-01-16", "2024-02-01", 0, 2, domainFilters=filters),
        "short_interest_empty.json",
        0,
    )
    with pytest.raises(UnknownInstrument, match="ZZZZ in no consolidated short interest"):
        list(short_interest(httpserver).fetch(si("ZZZZ", us(2024, 1, 16), us(2024, 2, 1))))


def test_a_half_month_not_published_yet_keeps_the_watermark(httpserver: HTTPServer) -> None:
    serve_page(httpserver, body("2024-01-16", "2024-02-01", 0, 2), "short_interest_empty.json", 0)
    soon = datetime(2024, 2, 5, tzinfo=UTC)
    assert (
        list(short_interest(httpserver, soon).fetch(si("*", us(2024, 1, 16), us(2024, 2, 1)))) == []
    )


def test_no_content_is_an_empty_page(httpserver: HTTPServer) -> None:
    httpserver.expect_request(API, method="POST").respond_with_data("", status=204)
    pages = list(short_interest(httpserver).fetch(si("*", us(2024, 1, 16), us(2024, 2, 1))))
    assert [(page.rows, page.covered_until) for page in pages] == [([], us(2024, 2, 1))]


def test_a_truncated_page_is_asked_again_then_given_up(httpserver: HTTPServer) -> None:
    query = body("2024-01-01", "2024-01-16", 0, 2)
    serve_page(httpserver, query, "short_interest_truncated.json", 3)
    serve_page(httpserver, query, "short_interest_2024-01-01_page1.json", 3)
    serve_page(httpserver, body("2024-01-01", "2024-01-16", 2, 2), "short_interest_empty.json", 3)
    serve_page(httpserver, body("2024-01-01", "2024-01-16", 2, 2), "short_interest_empty.json", 3)
    serve_page(httpserver, body("2024-01-01", "2024-01-16", 2, 2), "short_interest_empty.json", 3)
    pages: list[Page] = []
    with pytest.raises(SourceUnavailable, match="offset 2 came back incomplete 3 times"):
        pages.extend(short_interest(httpserver).fetch(si("*", us(2024, 1, 1), us(2024, 1, 16))))
    # The first page went out, but the watermark never passed the window's start.
    assert [(len(page.rows), page.covered_until) for page in pages] == [(2, us(2024, 1, 1))]


def test_503_then_success(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(API, method="POST").respond_with_data("", status=503)
    serve_page(
        httpserver, body("2024-01-16", "2024-02-01", 0, 2), "short_interest_2024-01-16.json", 2
    )
    pages = list(short_interest(httpserver).fetch(si("*", us(2024, 1, 16), us(2024, 2, 1))))
    assert len(pages[0].rows) == 2

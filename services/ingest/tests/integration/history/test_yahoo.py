"""YahooSource (yfinance on its session) against a local HTTP server answering with fixture files
shaped like Yahoo's v8 chart API: windows, pages, rate limits, failures, empty and bad data."""

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request as HttpRequest
from werkzeug import Response

from tickwire_core.errors import RejectedRecord
from tickwire_ingest.adapters.history.http import RetryPolicy
from tickwire_ingest.adapters.history.yahoo import YahooSource
from tickwire_ingest.domain.history import yahoo
from tickwire_ingest.domain.history.pages import (
    Page,
    Request,
    SourceUnavailable,
    UnknownInstrument,
)
from tickwire_normalize.domain.history import HistoryRow
from tickwire_normalize.domain.history.yahoo import map_row

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[5] / "tests" / "fixtures" / "vendors" / "yahoo"
FAST = RetryPolicy(attempts=3, initial_s=0.01, max_s=5.0, jitter_s=0.0, timeout_s=5.0)

# yfinance keeps the chart answers of past ranges in a process-wide cache keyed by URL and
# query: every test asks for its own ticker or range, so that each one reaches the server.


def us(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp()) * 1_000_000


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


Answer = Callable[[], Response]


def ok(name: str) -> Answer:
    return lambda: Response(fixture(name), content_type="application/json;charset=utf-8")


def status(code: int, body: str = "", **headers: str) -> Answer:
    return lambda: Response(body, status=code, headers=headers)


class Chart:
    """The chart endpoint of one ticker: the timezone lookup (range=1d) answered from
    `range_file`, data requests answered by `answers` in turn (the last one repeats), or by
    `by_period1` (period1 -> file) for a paged fetch."""

    def __init__(
        self,
        server: HTTPServer,
        ticker: str,
        answers: list[Answer] | None = None,
        range_file: str | None = None,
        by_period1: dict[int, str] | None = None,
    ) -> None:
        self.data: list[dict[str, str]] = []  # the data requests' query parameters
        self._answers = answers or []
        self._range = range_file
        self._by_period1 = by_period1 or {}
        server.expect_request(f"/v8/finance/chart/{ticker}").respond_with_handler(self._answer)

    def _answer(self, request: HttpRequest) -> Response:
        if "range" in request.args:
            return ok(self._range)() if self._range else status(500)()
        self.data.append(dict(request.args))
        if self._by_period1:
            return ok(self._by_period1[int(request.args["period1"])])()
        return self._answers[min(len(self.data), len(self._answers)) - 1]()


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("yfinance-cache"))


@pytest.fixture
def server(httpserver: HTTPServer) -> Iterator[HTTPServer]:
    # fc.yahoo.com answers 404 and sets Yahoo's cookie; the crumb is a short text.
    httpserver.expect_request("/").respond_with_data(
        "", status=404, headers={"Set-Cookie": "A3=d=AQABBtest&S=AQAAAtest; Path=/"}
    )
    httpserver.expect_request("/v1/test/getcrumb").respond_with_data(
        "Xa1bC2dE3fG", content_type="text/plain"
    )
    yield httpserver
    httpserver.clear()


def catch_all(server: HTTPServer) -> None:
    """Anything else yfinance asks for (consent pages, the quote endpoint): Yahoo's 404."""
    server.expect_request(re.compile(".*")).respond_with_data("Not Found", status=404)


def source(server: HTTPServer, cache_dir: str, now: int) -> YahooSource:
    return YahooSource(
        base_url=server.url_for("/"), policy=FAST, clock=lambda: now, cache_dir=cache_dir
    )


def fetch(src: YahooSource, ticker: str, dataset: str, since: int, until: int) -> list[Page]:
    try:
        return list(src.fetch(Request(ticker, dataset, since, until)))
    finally:
        src.close()


def payloads(page: Page) -> list[dict[str, Any]]:
    return [json.loads(row.payload) for row in page.rows]


def expected_daily(name: str) -> list[dict[str, Any]]:
    """The fixture's bars as the source publishes them: 00:00 UTC of the New York date."""
    result = json.loads(fixture(name))["chart"]["result"][0]
    quote, adj = result["indicators"]["quote"][0], result["indicators"]["adjclose"][0]
    rows = []
    for i, stamp in enumerate(result["timestamp"]):
        day = datetime.fromtimestamp(stamp - 5 * 3600, tz=UTC).date()  # EST
        rows.append(
            {
                "ts": int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000,
                "Open": quote["open"][i],
                "High": quote["high"][i],
                "Low": quote["low"][i],
                "Close": quote["close"][i],
                "Adj Close": adj["adjclose"][i],
                "Volume": quote["volume"][i] or 0,
                "exchange_timezone": "America/New_York",
            }
        )
    return rows


def test_daily_bars_are_stamped_at_midnight_utc_of_the_trading_date(
    server: HTTPServer, cache_dir: str
) -> None:
    chart = Chart(server, "AAPL", [ok("chart_AAPL_1d.json")], "chart_AAPL_range_1d.json")
    now = us(2025, 1, 11, 1)
    pages = fetch(
        source(server, cache_dir, now), "aapl", "ohlcv:1d", us(2025, 1, 1), us(2025, 1, 11)
    )

    assert len(pages) == 1
    assert payloads(pages[0]) == expected_daily("chart_AAPL_1d.json")
    row = pages[0].rows[0]
    assert (row.provider, row.feed, row.instrument) == ("yahoo", "ohlcv:1d", "AAPL")
    assert row.ts == us(2025, 1, 2)
    assert pages[0].covered_until == now - yahoo.DAY_US + 1
    # Dates are New York midnights for yfinance; unadjusted OHLC with Adj Close beside them.
    [query] = chart.data
    assert query["interval"] == "1d"
    assert int(query["period1"]) == us(2025, 1, 1, 5) // 1_000_000
    assert int(query["period2"]) == us(2025, 1, 11, 5) // 1_000_000


def test_the_trading_day_in_progress_is_not_published(server: HTTPServer, cache_dir: str) -> None:
    Chart(server, "AAPL", [ok("chart_AAPL_1d.json")], "chart_AAPL_range_1d.json")
    now = us(2025, 1, 10, 18)
    [page] = fetch(
        source(server, cache_dir, now), "AAPL", "ohlcv:1d", us(2025, 1, 2), us(2025, 1, 11)
    )

    assert [row["ts"] for row in payloads(page)] == [
        us(2025, 1, day) // 1000 for day in (2, 3, 6, 7, 8)
    ]
    assert page.covered_until == now - yahoo.DAY_US + 1


def test_a_first_daily_run_asks_for_the_whole_history(server: HTTPServer, cache_dir: str) -> None:
    chart = Chart(server, "AAPL", [ok("chart_AAPL_1d.json")], "chart_AAPL_range_1d.json")
    src = source(server, cache_dir, us(2025, 1, 12))
    since = src.earliest("ohlcv:1d")
    [page] = fetch(src, "AAPL", "ohlcv:1d", since, us(2025, 1, 12))

    assert len(page.rows) == 6
    assert int(chart.data[0]["period1"]) < -1_000_000_000  # yfinance's "max": 99 years back


def test_minute_bars_come_in_requests_of_seven_days(server: HTTPServer, cache_dir: str) -> None:
    chart = Chart(
        server,
        "MSFT",
        range_file="chart_MSFT_range_1d.json",
        by_period1={
            us(2025, 2, 3) // 1_000_000: "chart_MSFT_1m_page1.json",
            us(2025, 2, 10) // 1_000_000: "chart_MSFT_1m_page2.json",
        },
    )
    src = source(server, cache_dir, us(2025, 2, 12, 1))
    pages = fetch(src, "MSFT", "ohlcv:1m", us(2025, 2, 3), us(2025, 2, 12))

    assert [(q["interval"], int(q["period1"]), int(q["period2"])) for q in chart.data] == [
        ("1m", us(2025, 2, 3) // 1_000_000, us(2025, 2, 10) // 1_000_000),
        ("1m", us(2025, 2, 10) // 1_000_000, us(2025, 2, 12) // 1_000_000),
    ]
    assert [page.covered_until for page in pages] == [us(2025, 2, 10), us(2025, 2, 12)]
    assert [row.ts for row in pages[0].rows] == [
        us(2025, 2, 3, 14, 30),
        us(2025, 2, 3, 14, 31),
        us(2025, 2, 3, 14, 32),
        us(2025, 2, 3, 14, 33),
        us(2025, 2, 7, 20, 57),
        us(2025, 2, 7, 20, 58),
        us(2025, 2, 7, 20, 59),
    ]
    first = payloads(pages[0])[0]
    assert first == {
        "ts": us(2025, 2, 3, 14, 30) // 1000,
        "Open": 411.6,
        "High": 412.9,
        "Low": 411.02,
        "Close": 412.33,
        "Adj Close": 412.33,  # Yahoo sends no adjusted series intraday: yfinance copies Close
        "Volume": 1203040,
        "exchange_timezone": "America/New_York",
    }
    assert [row.ts for row in pages[1].rows] == [us(2025, 2, 10, 14, m) for m in (30, 31, 32)]


def test_the_minute_in_progress_is_not_published(server: HTTPServer, cache_dir: str) -> None:
    Chart(
        server,
        "MSFT",
        range_file="chart_MSFT_range_1d.json",
        by_period1={us(2025, 2, 10) // 1_000_000: "chart_MSFT_1m_page2.json"},
    )
    now = us(2025, 2, 10, 14, 32) + 30_000_000
    [page] = fetch(
        source(server, cache_dir, now), "MSFT", "ohlcv:1m", us(2025, 2, 10), us(2025, 2, 12)
    )

    assert [row.ts for row in page.rows] == [us(2025, 2, 10, 14, 30), us(2025, 2, 10, 14, 31)]
    assert page.covered_until == now - yahoo.MINUTE_US + 1


def test_a_rate_limit_is_waited_out_as_long_as_retry_after_says(
    server: HTTPServer, cache_dir: str
) -> None:
    chart = Chart(
        server,
        "AAPL",
        [status(429, "Too Many Requests", **{"Retry-After": "1"}), ok("chart_AAPL_1d.json")],
        "chart_AAPL_range_1d.json",
    )
    src = source(server, cache_dir, us(2025, 1, 11, 1))
    started = time.monotonic()
    [page] = fetch(src, "AAPL", "ohlcv:1d", us(2025, 1, 6), us(2025, 1, 11))

    assert time.monotonic() - started >= 1.0
    assert len(chart.data) == 2
    assert src.retries == 1
    assert [row.ts for row in page.rows] == [us(2025, 1, d) for d in (6, 7, 8, 10)]


def test_a_server_error_is_retried(server: HTTPServer, cache_dir: str) -> None:
    chart = Chart(
        server,
        "AAPL",
        [status(503, "<html>Service Unavailable</html>"), ok("chart_AAPL_1d.json")],
        "chart_AAPL_range_1d.json",
    )
    src = source(server, cache_dir, us(2025, 1, 11, 1))
    [page] = fetch(src, "AAPL", "ohlcv:1d", us(2025, 1, 7), us(2025, 1, 11))

    assert len(chart.data) == 2
    assert [row.ts for row in page.rows] == [us(2025, 1, d) for d in (7, 8, 10)]


def test_an_answer_cut_short_is_retried(server: HTTPServer, cache_dir: str) -> None:
    cut = fixture("chart_AAPL_1d.json")[:700]
    chart = Chart(
        server,
        "AAPL",
        [status(200, cut, **{"Content-Type": "application/json"}), ok("chart_AAPL_1d.json")],
        "chart_AAPL_range_1d.json",
    )
    src = source(server, cache_dir, us(2025, 1, 11, 1))
    [page] = fetch(src, "AAPL", "ohlcv:1d", us(2025, 1, 8), us(2025, 1, 11))

    assert len(chart.data) == 2
    assert [row.ts for row in page.rows] == [us(2025, 1, d) for d in (8, 10)]


def test_failures_past_the_retries_make_the_source_unavailable(
    server: HTTPServer, cache_dir: str
) -> None:
    chart = Chart(server, "AAPL", [status(502, "Bad Gateway")], "chart_AAPL_range_1d.json")
    src = source(server, cache_dir, us(2025, 1, 11, 1))
    with pytest.raises(SourceUnavailable, match="AAPL 1d failed 3 times, last: HTTP 502"):
        fetch(src, "AAPL", "ohlcv:1d", us(2025, 1, 3), us(2025, 1, 11))
    assert len(chart.data) == 3


def test_an_empty_range_yields_a_page_without_rows(server: HTTPServer, cache_dir: str) -> None:
    Chart(server, "AAPL", [ok("chart_AAPL_1m_weekend.json")], "chart_AAPL_range_1d.json")
    src = source(server, cache_dir, us(2025, 2, 3))
    pages = fetch(src, "AAPL", "ohlcv:1m", us(2025, 2, 1), us(2025, 2, 2))

    assert [(page.rows, page.covered_until) for page in pages] == [([], us(2025, 2, 2))]


def test_rows_of_nulls_are_published_as_they_came(server: HTTPServer, cache_dir: str) -> None:
    Chart(server, "GME", [ok("chart_GME_1d_nulls.json")], "chart_GME_range_1d.json")
    src = source(server, cache_dir, us(2025, 1, 11))
    [page] = fetch(src, "GME", "ohlcv:1d", us(2025, 1, 6), us(2025, 1, 9))

    halted, no_close = payloads(page)[1:]
    assert halted["ts"] == us(2025, 1, 7) // 1000
    assert [halted[c] for c in ("Open", "High", "Low", "Close", "Adj Close")] == [None] * 5
    assert halted["Volume"] == 0  # yfinance fills a missing volume with 0
    assert (no_close["Open"], no_close["Close"], no_close["Adj Close"]) == (29.9, None, None)

    # What normalize makes of them: a bar, then two rejects (dead-lettered, counted).
    outcomes = []
    for row in page.rows:
        message = HistoryRow(row.provider, row.feed, row.instrument, 0, json.loads(row.payload))
        try:
            outcomes.append(map_row(message)[0].record["close"])
        except RejectedRecord as exc:
            outcomes.append(exc.reason)
    assert outcomes == [30.45, "missing_value", "missing_value"]


def test_a_ticker_yahoo_does_not_know(server: HTTPServer, cache_dir: str) -> None:
    server.expect_request("/v8/finance/chart/ZZZZNOPE").respond_with_data(
        fixture("chart_not_found.json"), status=404, content_type="application/json"
    )
    catch_all(server)
    src = source(server, cache_dir, us(2025, 1, 11))
    with pytest.raises(UnknownInstrument, match=r"ZZZZNOPE.*symbol may be delisted"):
        fetch(src, "ZZZZNOPE", "ohlcv:1d", us(2025, 1, 1), us(2025, 1, 11))
    # Yahoo's "Not Found" is final: no second try, no detour through the quote endpoint.
    asked = [entry[0].path for entry in server.log if "/chart/" in entry[0].path]
    assert asked == ["/v8/finance/chart/ZZZZNOPE"]
    assert not any("quoteSummary" in entry[0].path for entry in server.log)


def test_a_range_before_the_intraday_window_is_refused_before_asking(
    server: HTTPServer, cache_dir: str
) -> None:
    catch_all(server)
    now = us(2025, 3, 15)
    src = source(server, cache_dir, now)
    with pytest.raises(yahoo.RangeNotServed, match="last 30 days only"):
        fetch(src, "AAPL", "ohlcv:1m", now - 31 * yahoo.DAY_US, now)
    assert server.log == []

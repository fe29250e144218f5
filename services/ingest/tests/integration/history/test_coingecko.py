"""CoinGeckoSource against a local HTTP server answering with the fixture files shaped like
CoinGecko's documented responses: pages, rate limits, failures, empty and bad data."""

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tickwire_ingest.adapters.history.coingecko import CoinGeckoSource
from tickwire_ingest.adapters.history.http import RetryPolicy
from tickwire_ingest.domain.history.pages import (
    Page,
    Request,
    SourceUnavailable,
    UnknownInstrument,
)
from tickwire_testing.vendors import coingecko_coin as serve_coin
from tickwire_testing.vendors import coingecko_window as serve_window

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[5] / "tests" / "fixtures" / "vendors" / "coingecko"
FAST = RetryPolicy(attempts=3, initial_s=0.01, max_s=2.0, jitter_s=0.0, timeout_s=5.0)
DAY_US = 86_400_000_000
COIN = "/coins/bitcoin"
OHLC = "/coins/bitcoin/ohlc/range"
CHART = "/coins/bitcoin/market_chart/range"


def us(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp()) * 1_000_000


SINCE, UNTIL = us(2024, 1, 1), us(2024, 7, 19)  # 200 days: 180 + 20
MIDDLE = SINCE + 180 * DAY_US  # where the first request's window ends
LATER = us(2024, 12, 1)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def raw(name: str) -> str:
    return (FIXTURES / name).read_text()


def source(server: HTTPServer, now: int = LATER, **options: Any) -> CoinGeckoSource:
    options = {"api_key": "demo-key", "pause_s": 0.0, "policy": FAST, **options}
    return CoinGeckoSource(base_url=server.url_for("/api/v3"), clock=lambda: now, **options)


def serve_all(server: HTTPServer, end: int = UNTIL) -> None:
    serve_coin(server)
    serve_window(server, SINCE, MIDDLE, "ohlc_range_1.json", "market_chart_range_1.json")
    serve_window(server, MIDDLE, end, "ohlc_range_2.json", "market_chart_range_2.json")


def fetch(src: CoinGeckoSource, since: int = SINCE, until: int = UNTIL) -> list[Page]:
    return list(src.fetch(Request("bitcoin:usd", "ohlcv:1d", since, until)))


def payloads(pages: list[Page]) -> list[dict[str, Any]]:
    return [json.loads(row.payload) for page in pages for row in page.rows]


def test_a_range_longer_than_180_days_comes_in_two_pages(httpserver: HTTPServer) -> None:
    serve_all(httpserver)
    pages = fetch(source(httpserver))
    assert [page.covered_until for page in pages] == [MIDDLE, UNTIL]
    assert [len(page.rows) for page in pages] == [180, 20]
    rows = [row for page in pages for row in page.rows]
    assert [row.ts for row in rows] == [SINCE + day * DAY_US for day in range(200)]
    # Each row is the vendor's candle as sent, joined with the volume point at its close.
    candles = fixture("ohlc_range_1.json")[1:] + fixture("ohlc_range_2.json")
    volumes = (
        fixture("market_chart_range_1.json")["total_volumes"][1:]
        + fixture("market_chart_range_2.json")["total_volumes"]
    )
    assert [p["ohlc"]["row"] for p in payloads(pages)] == candles
    assert [p["total_volume"]["row"] for p in payloads(pages)] == volumes
    assert payloads(pages)[0]["coin"] == {"id": "bitcoin", "symbol": "btc", "from": COIN}
    assert payloads(pages)[0]["ohlc"]["from"] == OHLC
    assert payloads(pages)[0]["total_volume"]["from"] == CHART
    assert {(row.provider, row.feed, row.instrument) for row in rows} == {
        ("coingecko", "ohlcv:1d", "bitcoin:usd")
    }
    # The key goes in the demo plan's header, never in the query string.
    assert all(req.headers["x-cg-demo-api-key"] == "demo-key" for req, _ in httpserver.log)
    assert all("key" not in req.query_string.decode() for req, _ in httpserver.log)
    assert len(httpserver.log) == 6  # coin, currencies, then candles and volumes per window


def test_a_pro_key_goes_in_the_pro_header(httpserver: HTTPServer) -> None:
    serve_all(httpserver)
    fetch(source(httpserver, api_key="pro-key", plan="pro"))
    assert all(req.headers["x-cg-pro-api-key"] == "pro-key" for req, _ in httpserver.log)


def test_the_day_not_yet_final_is_not_fetched(httpserver: HTTPServer) -> None:
    serve_all(httpserver, end=UNTIL - DAY_US)
    # 00:30 on 19 July: 18 July is over but CoinGecko finalises it at 00:35. The vendor's
    # answer still holds the 18 July candle (it closes at the window's end + 1 day): dropped.
    pages = fetch(source(httpserver, now=us(2024, 7, 19, 0, 30)), since=MIDDLE)
    assert [row.ts for row in pages[0].rows] == [MIDDLE + day * DAY_US for day in range(19)]
    assert [page.covered_until for page in pages] == [UNTIL - DAY_US]


def test_a_429_is_waited_out_and_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/api/v3" + OHLC).respond_with_data(
        raw("error_rate_limit.json"),
        status=429,
        headers={"Retry-After": "1"},
        content_type="application/json",
    )
    serve_all(httpserver)
    src = source(httpserver)
    started = time.monotonic()
    pages = fetch(src)
    assert time.monotonic() - started >= 1.0
    assert sum(len(page.rows) for page in pages) == 200
    assert src.http.retries == 1


def test_a_5xx_then_success_is_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/api/v3" + CHART).respond_with_data("", status=503)
    serve_all(httpserver)
    src = source(httpserver)
    assert sum(len(page.rows) for page in fetch(src)) == 200
    assert src.http.retries == 1


def test_a_vendor_that_keeps_failing_is_unavailable(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v3" + OHLC).respond_with_data("", status=500)
    serve_all(httpserver)
    with pytest.raises(SourceUnavailable, match="failed 3 times"):
        fetch(source(httpserver))


def test_a_truncated_page_is_fetched_again(httpserver: HTTPServer) -> None:
    cut = raw("ohlc_range_2.json")[:-40]
    httpserver.expect_oneshot_request("/api/v3" + OHLC).respond_with_data(
        cut, content_type="application/json"
    )
    serve_all(httpserver)
    pages = fetch(source(httpserver), since=MIDDLE)
    assert [len(page.rows) for page in pages] == [20]


def test_a_page_always_truncated_is_unavailable_and_yields_nothing(httpserver: HTTPServer) -> None:
    cut = raw("ohlc_range_2.json")[:-40]
    httpserver.expect_request("/api/v3" + OHLC).respond_with_data(cut)
    serve_all(httpserver)
    pages: list[Page] = []
    with pytest.raises(SourceUnavailable, match="unreadable JSON"):
        pages.extend(source(httpserver).fetch(Request("bitcoin:usd", "ohlcv:1d", SINCE, UNTIL)))
    assert pages == []  # the watermark cannot pass a page never read


def test_an_empty_range_is_a_page_without_rows(httpserver: HTTPServer) -> None:
    serve_coin(httpserver)
    end = SINCE + 30 * DAY_US
    serve_window(httpserver, SINCE, end, "ohlc_range_empty.json", "market_chart_range_empty.json")
    pages = fetch(source(httpserver), until=SINCE + 30 * DAY_US)
    assert pages == [Page(rows=[], covered_until=SINCE + 30 * DAY_US)]


def test_a_range_with_no_final_day_asks_nothing(httpserver: HTTPServer) -> None:
    assert fetch(source(httpserver, now=us(2024, 3, 3, 12)), us(2024, 3, 3), us(2024, 3, 4)) == []
    assert httpserver.log == []


def test_malformed_candles_pass_through_as_sent(httpserver: HTTPServer) -> None:
    serve_coin(httpserver)
    serve_window(
        httpserver, MIDDLE, UNTIL, "ohlc_range_malformed.json", "market_chart_range_2.json"
    )
    pages = fetch(source(httpserver), since=MIDDLE)
    assert sorted(map(json.dumps, (p["ohlc"]["row"] for p in payloads(pages)))) == sorted(
        map(json.dumps, fixture("ohlc_range_malformed.json"))
    )
    volumes = {json.dumps(p["ohlc"]["row"]): p["total_volume"]["row"] for p in payloads(pages)}
    assert volumes['"1719964800000"'] is None  # no time, so no volume point to join


def test_an_unknown_coin_id_is_an_unknown_instrument(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v3/coins/no-such-coin").respond_with_data(
        raw("error_coin_not_found.json"), status=404, content_type="application/json"
    )
    request = Request("no-such-coin:usd", "ohlcv:1d", SINCE, UNTIL)
    with pytest.raises(UnknownInstrument, match="no coin id 'no-such-coin' \\(coin not found\\)"):
        list(source(httpserver).fetch(request))
    assert len(httpserver.log) == 1


def test_an_unknown_vs_currency_is_an_unknown_instrument(httpserver: HTTPServer) -> None:
    serve_coin(httpserver)
    request = Request("bitcoin:xyz", "ohlcv:1d", SINCE, UNTIL)
    with pytest.raises(UnknownInstrument, match="vs currency 'xyz'"):
        list(source(httpserver).fetch(request))


def test_a_range_beyond_the_demo_plan_says_so_without_retrying(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v3" + OHLC).respond_with_data(
        raw("error_time_range.json"), status=401, content_type="application/json"
    )
    serve_all(httpserver)
    with pytest.raises(SourceUnavailable, match=r"HTTP 401 \(error 10012\).*past 365 days only"):
        fetch(source(httpserver))
    assert sum(1 for req, _ in httpserver.log if req.path.endswith("/ohlc/range")) == 1

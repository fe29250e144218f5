"""ExchangeSource (ccxt) against a local HTTP server answering with fixtures shaped like the
venues' documented responses: pages, overlaps, rate limits, failures, empty and bad data."""

import json
import time
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tickwire_ingest.adapters.history.exchange import ExchangeSource, rewrite_urls
from tickwire_ingest.adapters.history.http import RetryPolicy
from tickwire_ingest.domain.history.pages import (
    Page,
    Request,
    SourceUnavailable,
    UnknownInstrument,
)

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[5] / "tests" / "fixtures" / "vendors"
FAST = RetryPolicy(attempts=3, initial_s=0.01, max_s=2.0, jitter_s=0.0, timeout_s=5.0)
T0 = 1_709_251_200_000  # 2024-03-01T00:00:00Z, ms
H = 3_600_000
MARKETS = {
    "binance": {"/api/v3/exchangeInfo": "binance/exchange_info.json"},
    "kraken": {
        "/0/public/Assets": "kraken/assets.json",
        "/0/public/AssetPairs": "kraken/asset_pairs.json",
    },
    "coinbase": {
        "/v2/currencies": "coinbase/currencies.json",
        "/v2/currencies/crypto": "coinbase/currencies_crypto.json",
        "/v2/exchange-rates": "coinbase/exchange_rates.json",
        "/api/v3/brokerage/market/products": "coinbase/products.json",
    },
    "deribit": {
        "/api/v2/public/get_currencies": "deribit/currencies.json",
        "/api/v2/public/get_instruments": "deribit/instruments.json",
    },
}


def raw(name: str) -> str:
    return (FIXTURES / name).read_text()


def fixture(name: str) -> Any:
    return json.loads(raw(name))


def serve(server: HTTPServer, path: str, name: str, **query: Any) -> None:
    server.expect_request(
        path, query_string={k: str(v) for k, v in query.items()} or None
    ).respond_with_data(raw(name), content_type="application/json")


def source(server: HTTPServer, venue: str, now_ms: int = T0 + 5000 * H) -> ExchangeSource:
    if venue == "coinbase":  # its contract products: none (asked before the spot listing)
        serve(
            server,
            "/api/v3/brokerage/market/products",
            "coinbase/products_future.json",
            product_type="FUTURE",
        )
    for path, name in MARKETS[venue].items():
        serve(server, path, name)
    return ExchangeSource(
        venue,
        base_url=server.url_for("/"),
        policy=FAST,
        rate_limit_ms=0,
        clock=lambda: now_ms / 1000,
    )


def fetch(src: ExchangeSource, instrument: str, dataset: str, since: int, until: int) -> list[Page]:
    return list(src.fetch(Request(instrument, dataset, since * 1000, until * 1000)))


def rows(pages: list[Page]) -> list[Any]:
    return [json.loads(row.payload) for page in pages for row in page.rows]


def test_urls_are_moved_to_the_local_server_with_their_paths() -> None:
    api = {
        "public": "https://api.binance.com/api/v3",
        "fapi": {"x": "https://fapi.binance.com/fapi/v1"},
    }
    assert rewrite_urls(api, "http://127.0.0.1:9/base/") == {
        "public": "http://127.0.0.1:9/base/api/v3",
        "fapi": {"x": "http://127.0.0.1:9/base/fapi/v1"},
    }


def test_binance_candles_two_windows_named_by_symbol_published_by_market_id(
    httpserver: HTTPServer,
) -> None:
    src = source(httpserver, "binance")
    klines = "/api/v3/klines"
    common = {"symbol": "BTCUSDT", "interval": "1h", "limit": 1000}
    serve(
        httpserver,
        klines,
        "binance/klines_1h_page1.json",
        startTime=T0,
        endTime=T0 + 1000 * H - 1,
        **common,
    )
    serve(
        httpserver,
        klines,
        "binance/klines_1h_page2.json",
        startTime=T0 + 1000 * H,
        endTime=T0 + 1003 * H - 1,
        **common,
    )
    pages = fetch(src, "BTC/USDT", "ohlcv:1h", T0, T0 + 1003 * H)
    assert [len(p.rows) for p in pages] == [1000, 3]
    assert [p.covered_until for p in pages] == [(T0 + 1000 * H) * 1000, (T0 + 1003 * H) * 1000]
    candles = rows(pages)
    assert [c[0] for c in candles] == [T0 + i * H for i in range(1003)]
    first = fixture("binance/klines_1h_page1.json")[0]
    assert candles[0] == [T0, *(float(v) for v in first[1:6])]
    assert candles[1001][2] is None  # the malformed high passes through, for normalize to reject
    row = pages[0].rows[0]
    assert (row.provider, row.feed, row.instrument, row.ts) == (
        "binance",
        "ohlcv:1h",
        "BTCUSDT",
        T0 * 1000,
    )


def test_binance_trades_full_page_then_overlap_then_an_empty_hour(httpserver: HTTPServer) -> None:
    src = source(httpserver, "binance")
    page1 = fixture("binance/agg_trades_page1.json")
    last = page1[-1]["T"]
    trades = "/api/v3/aggTrades"
    serve(
        httpserver,
        trades,
        "binance/agg_trades_page1.json",
        symbol="BTCUSDT",
        startTime=T0,
        endTime=T0 + H - 1,
        limit=1000,
    )
    serve(
        httpserver,
        trades,
        "binance/agg_trades_page2.json",
        symbol="BTCUSDT",
        startTime=last,
        endTime=last + H - 1,  # an hour from the last instant: Binance's widest window
        limit=1000,
    )
    httpserver.expect_request(
        trades,
        query_string={
            "symbol": "BTCUSDT",
            "startTime": str(last + H),
            "endTime": str(T0 + 2 * H - 1),
            "limit": "1000",
        },
    ).respond_with_json([])
    pages = fetch(src, "BTCUSDT", "trades", T0, T0 + 2 * H)
    assert [len(p.rows) for p in pages] == [1000, 3, 0]
    assert [p.covered_until // 1000 for p in pages] == [last, last + H, T0 + 2 * H]
    published = rows(pages)
    ids = [t["id"] for t in published]
    assert ids == [str(3_000_000_000 + i) for i in range(1003)]  # each once, in time order
    first = published[0]
    assert first["info"] == page1[0] and first["id"] == str(page1[0]["a"])  # aggTrade `a`
    assert first["side"] == ("sell" if page1[0]["m"] else "buy")
    assert first["timestamp"] == page1[0]["T"] and first["price"] == float(page1[0]["p"])


def test_kraken_candles_page_on_and_never_publish_the_open_one(httpserver: HTTPServer) -> None:
    src = source(httpserver, "kraken", now_ms=T0 + 6 * H + H // 2)
    # ccxt asks from one interval before `since`, in seconds.
    serve(
        httpserver,
        "/0/public/OHLC",
        "kraken/ohlc_1h_page1.json",
        pair="XXBTZUSD",
        interval=60,
        since=T0 // 1000 - 3600,
    )
    serve(
        httpserver,
        "/0/public/OHLC",
        "kraken/ohlc_1h_page2.json",
        pair="XXBTZUSD",
        interval=60,
        since=(T0 + 2 * H) // 1000,
    )
    pages = fetch(src, "XXBTZUSD", "ohlcv:1h", T0, T0 + 10 * H)
    assert [len(p.rows) for p in pages] == [3, 3]
    assert pages[-1].covered_until == (T0 + 6 * H) * 1000  # the open 06:00 candle waits
    candles = rows(pages)
    assert [c[0] for c in candles] == [T0 + i * H for i in range(6)]
    source_rows = fixture("kraken/ohlc_1h_page1.json")["result"]["XXBTZUSD"]
    # Kraken's [time, open, high, low, close, vwap, volume, count] as ccxt's candle.
    assert candles[0] == [T0, *(float(source_rows[0][i]) for i in (1, 2, 3, 4, 6))]
    assert {row.instrument for p in pages for row in p.rows} == {"BTC/USD"}  # WebSocket v2


def test_kraken_candles_older_than_its_720_latest_are_not_asked_for(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    src = source(httpserver, "kraken", now_ms=T0 + 1000 * H + H // 2)
    oldest = T0 + (1000 - 719) * H
    httpserver.expect_request(
        "/0/public/OHLC",
        query_string={"pair": "XXBTZUSD", "interval": "60", "since": str(oldest // 1000 - 3600)},
    ).respond_with_json({"error": [], "result": {"XXBTZUSD": [], "last": 0}})
    pages = fetch(src, "BTC/USD", "ohlcv:1h", T0, T0 + 2000 * H)
    assert sum(len(p.rows) for p in pages) == 0
    assert pages[-1].covered_until == (T0 + 1000 * H) * 1000
    assert "serves only its latest 720 candles" in caplog.text


def test_kraken_trades_full_page_then_the_rest_from_its_last_second(
    httpserver: HTTPServer,
) -> None:
    src = source(httpserver, "kraken")
    page1 = fixture("kraken/trades_page1.json")["result"]["XXBTZUSD"]
    cut = int(page1[-1][2])
    serve(
        httpserver,
        "/0/public/Trades",
        "kraken/trades_page1.json",
        pair="XXBTZUSD",
        since=T0 // 1000,
        count=1000,
    )
    serve(
        httpserver,
        "/0/public/Trades",
        "kraken/trades_page2.json",
        pair="XXBTZUSD",
        since=cut,
        count=1000,
    )
    pages = fetch(src, "BTC/USD", "trades", T0, T0 + H)
    assert [p.covered_until // 1000 for p in pages] == [cut * 1000, T0 + H]
    published = rows(pages)
    assert [t["id"] for t in published] == [str(70_000_000 + i) for i in range(1004)]
    assert published[0]["id"] == str(page1[0][6])  # the trade_id the v2 trade channel carries
    assert published[0]["side"] == ("sell" if page1[0][3] == "s" else "buy")


def test_coinbase_one_candle_page(httpserver: HTTPServer) -> None:
    src = source(httpserver, "coinbase")
    candles_path = "/api/v3/brokerage/market/products/BTC-USD/candles"
    serve(
        httpserver,
        candles_path,
        "coinbase/candles_1h.json",
        granularity="ONE_HOUR",
        start=T0 // 1000,
        end=(T0 + 5 * H) // 1000 - 1,
    )
    pages = fetch(src, "BTC/USD", "ohlcv:1h", T0, T0 + 5 * H)
    candles = rows(pages)
    assert [c[0] for c in candles] == [T0 + i * H for i in range(5)]  # oldest first
    newest = fixture("coinbase/candles_1h.json")["candles"][0]
    assert candles[-1][1:] == [float(newest[k]) for k in ("open", "high", "low", "close", "volume")]
    assert pages[0].rows[0].instrument == "BTC-USD"


def test_deribit_one_candle_page(httpserver: HTTPServer) -> None:
    src = source(httpserver, "deribit")
    serve(
        httpserver,
        "/api/v2/public/get_tradingview_chart_data",
        "deribit/chart_data_1h.json",
        instrument_name="BTC-PERPETUAL",
        resolution=60,
        start_timestamp=T0 - 1,
        end_timestamp=T0 + 5 * H - 1,
    )
    pages = fetch(src, "BTC-PERPETUAL", "ohlcv:1h", T0, T0 + 5 * H)
    chart = fixture("deribit/chart_data_1h.json")["result"]
    assert rows(pages) == [
        [
            chart["ticks"][i],
            chart["open"][i],
            chart["high"][i],
            chart["low"][i],
            chart["close"][i],
            chart["volume"][i],
        ]
        for i in range(5)
    ]
    assert pages[0].rows[0].instrument == "BTC-PERPETUAL"


def test_429_is_retried_after_its_retry_after(httpserver: HTTPServer) -> None:
    src = source(httpserver, "binance")
    httpserver.expect_oneshot_request("/api/v3/klines").respond_with_data(
        raw("binance/error_rate_limit.json"),
        status=429,
        headers={"Retry-After": "1"},
        content_type="application/json",
    )
    serve(httpserver, "/api/v3/klines", "binance/klines_1h_page2.json")
    started = time.monotonic()
    pages = fetch(src, "BTCUSDT", "ohlcv:1h", T0 + 1000 * H, T0 + 1003 * H)
    assert time.monotonic() - started >= 1.0
    assert src.retries == 1 and sum(len(p.rows) for p in pages) == 3


def test_5xx_then_success_and_a_cut_off_page_are_retried(httpserver: HTTPServer) -> None:
    src = source(httpserver, "kraken", now_ms=T0 + 6 * H + H // 2)
    ohlc = "/0/public/OHLC"
    httpserver.expect_oneshot_request(ohlc).respond_with_data(
        "<html>502 Bad Gateway</html>", status=502
    )
    cut = raw("kraken/ohlc_1h_page1.json")[:120]
    httpserver.expect_oneshot_request(ohlc).respond_with_data(cut, content_type="application/json")
    serve(httpserver, ohlc, "kraken/ohlc_1h_page2.json")
    pages = fetch(src, "BTC/USD", "ohlcv:1h", T0 + 3 * H, T0 + 6 * H)
    assert src.retries == 2 and sum(len(p.rows) for p in pages) == 3


def test_kraken_rate_limit_in_the_body_is_retried(httpserver: HTTPServer) -> None:
    src = source(httpserver, "kraken", now_ms=T0 + 6 * H + H // 2)
    ohlc = "/0/public/OHLC"
    # Kraken says it with HTTP 200 and an error string, which ccxt reads as DDoSProtection.
    serve_once = httpserver.expect_oneshot_request(ohlc)
    serve_once.respond_with_data(
        raw("kraken/error_rate_limit.json"), content_type="application/json"
    )
    serve(httpserver, ohlc, "kraken/ohlc_1h_page2.json")
    pages = fetch(src, "BTC/USD", "ohlcv:1h", T0 + 3 * H, T0 + 6 * H)
    assert src.retries == 1 and sum(len(p.rows) for p in pages) == 3


def test_a_venue_that_keeps_failing_is_unavailable(httpserver: HTTPServer) -> None:
    src = source(httpserver, "binance")
    httpserver.expect_request("/api/v3/klines").respond_with_data("busy", status=503)
    with pytest.raises(SourceUnavailable, match="failed 3 times"):
        fetch(src, "BTCUSDT", "ohlcv:1h", T0, T0 + H)
    assert src.retries == 2


def test_an_empty_range_yields_no_rows_but_covers_it(httpserver: HTTPServer) -> None:
    src = source(httpserver, "binance")
    httpserver.expect_request("/api/v3/klines").respond_with_json([])
    pages = fetch(src, "BTCUSDT", "ohlcv:1d", T0, T0 + 24 * 24 * H)
    assert sum(len(p.rows) for p in pages) == 0
    assert pages[-1].covered_until == (T0 + 24 * 24 * H) * 1000


def test_an_unknown_symbol_is_said_without_asking_the_venue_for_it(httpserver: HTTPServer) -> None:
    src = source(httpserver, "kraken")
    with pytest.raises(UnknownInstrument, match="DOGE/EUR"):
        fetch(src, "DOGE/EUR", "trades", T0, T0 + H)
    assert all(r.path != "/0/public/Trades" for r, _ in httpserver.log)


def test_a_symbol_the_venue_rejects_is_unknown_not_retried(httpserver: HTTPServer) -> None:
    src = source(httpserver, "binance")
    httpserver.expect_request("/api/v3/klines").respond_with_data(
        raw("binance/error_invalid_symbol.json"), status=400, content_type="application/json"
    )
    with pytest.raises(UnknownInstrument, match="Invalid symbol"):
        fetch(src, "ETHBTC", "ohlcv:1h", T0, T0 + H)
    assert src.retries == 0

"""The vendors' fixture files (tests/fixtures/vendors/) answered by a local pytest-httpserver as
each vendor answers the requests its history source makes, optionally slowly (to kill a run)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

FIXTURES = Path(__file__).resolve().parents[4] / "tests" / "fixtures" / "vendors"
DAY_US = 86_400_000_000
HOUR_MS = 3_600_000

COINGECKO_ROOT = "/api/v3"  # the part of CoinGecko's base URL before each endpoint
FINRA_DAILY = "/equity/regsho/daily/"
FINRA_SHORT_INTEREST = "/data/group/otcMarket/name/consolidatedShortInterest"
EXCHANGE_MARKETS = {
    "binance": {"/api/v3/exchangeInfo": "binance/exchange_info.json"},
    "kraken": {
        "/0/public/Assets": "kraken/assets.json",
        "/0/public/AssetPairs": "kraken/asset_pairs.json",
    },
}


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


def data(name: str) -> Any:
    return json.loads(text(name))


def answer(
    server: HTTPServer,
    path: str,
    name: str,
    *,
    query: dict[str, Any] | None = None,
    method: str = "GET",
    body: Any = None,
    status: int = 200,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    delay_s: float = 0.0,
) -> None:
    """Answer requests for `path` (with exactly `query` / the JSON `body`, when given) with the
    fixture file `name`, after `delay_s`."""
    content = text(name)
    # pytest-httpserver matches a JSON body only when one is named (None would be one).
    match: dict[str, Any] = {} if body is None else {"json": body}
    matched = server.expect_request(
        path,
        method=method,
        query_string={k: str(v) for k, v in query.items()} if query else None,
        **match,
    )

    def slowly(_: Request) -> Response:
        time.sleep(delay_s)
        return Response(content, status, headers, content_type=content_type)

    if delay_s:
        matched.respond_with_handler(slowly)
    else:
        matched.respond_with_data(content, status, headers, content_type=content_type)


# --- CoinGecko -------------------------------------------------------------------------------


def coingecko_coin(server: HTTPServer) -> None:
    """The coin and the vs currencies, which the source checks before asking for candles."""
    answer(server, COINGECKO_ROOT + "/coins/bitcoin", "coingecko/coin_bitcoin.json")
    answer(
        server,
        COINGECKO_ROOT + "/simple/supported_vs_currencies",
        "coingecko/supported_vs_currencies.json",
    )


def coingecko_window(
    server: HTTPServer, start_us: int, end_us: int, ohlc: str, chart: str, delay_s: float = 0.0
) -> None:
    """Bitcoin's daily candles and volumes of bars in [start, end): CoinGecko is asked from an
    hour before the first close (start + 1 day) to an hour after the last (end)."""
    query = {
        "vs_currency": "usd",
        "from": (start_us + DAY_US) // 1_000_000 - 3600,
        "to": end_us // 1_000_000 + 3600,
        "interval": "daily",
    }
    path = COINGECKO_ROOT + "/coins/bitcoin"
    answer(server, path + "/ohlc/range", f"coingecko/{ohlc}", query=query, delay_s=delay_s)
    answer(server, path + "/market_chart/range", f"coingecko/{chart}", query=query)


# --- Exchanges through ccxt --------------------------------------------------------------------


def exchange_markets(server: HTTPServer, venue: str) -> None:
    """The venue's market listing, which ccxt loads before anything else."""
    for path, name in EXCHANGE_MARKETS[venue].items():
        answer(server, path, name)


def binance_klines(
    server: HTTPServer, start_ms: int, end_ms: int, name: str, delay_s: float = 0.0
) -> None:
    """One page of BTCUSDT hourly klines in [start, end), as ccxt asks Binance for it."""
    query = {
        "symbol": "BTCUSDT",
        "interval": "1h",
        "limit": 1000,
        "startTime": start_ms,
        "endTime": end_ms - 1,
    }
    answer(server, "/api/v3/klines", f"binance/{name}", query=query, delay_s=delay_s)


def binance_agg_trades(
    server: HTTPServer, start_ms: int, end_ms: int, name: str | None, delay_s: float = 0.0
) -> None:
    """BTCUSDT aggregate trades in [start, end] (None: none)."""
    query = {"symbol": "BTCUSDT", "startTime": start_ms, "endTime": end_ms - 1, "limit": 1000}
    if name is None:
        server.expect_request(
            "/api/v3/aggTrades", query_string={k: str(v) for k, v in query.items()}
        ).respond_with_json([])
        return
    answer(server, "/api/v3/aggTrades", f"binance/{name}", query=query, delay_s=delay_s)


def kraken_trades(server: HTTPServer, since_s: int, name: str, delay_s: float = 0.0) -> None:
    """XBT/USD trades from `since_s` on, a page of at most 1000."""
    query = {"pair": "XXBTZUSD", "since": since_s, "count": 1000}
    answer(server, "/0/public/Trades", f"kraken/{name}", query=query, delay_s=delay_s)


# --- FINRA -------------------------------------------------------------------------------------


def finra_daily_file(server: HTTPServer, name: str, delay_s: float = 0.0) -> None:
    answer(server, FINRA_DAILY + name, f"finra/{name}", content_type="text/plain", delay_s=delay_s)


def finra_no_file(server: HTTPServer, name: str) -> None:
    """A day without a file: FINRA answers 403 Access Denied."""
    answer(
        server,
        FINRA_DAILY + name,
        "finra/error_403_access_denied.xml",
        status=403,
        content_type="application/xml",
    )


def finra_short_interest(
    server: HTTPServer, first: str, end: str, names: list[str], limit: int = 5000
) -> None:
    """The consolidated short interest of settlement dates in [first, end): the rows of the
    fixture pages `names`, in one answer of at most `limit` rows from offset 0."""
    rows = [row for name in names for row in data(f"finra/{name}")]
    body = {
        "limit": limit,
        "offset": 0,
        "dateRangeFilters": [{"fieldName": "settlementDate", "startDate": first, "endDate": end}],
    }
    server.expect_request(FINRA_SHORT_INTEREST, method="POST", json=body).respond_with_json(
        rows, headers={"Record-Total": str(len(rows))}
    )


# --- Yahoo -------------------------------------------------------------------------------------


def yahoo_session(server: HTTPServer) -> None:
    """Yahoo's cookie (fc.yahoo.com answers 404 and sets it) and the crumb yfinance asks for."""
    server.expect_request("/").respond_with_data(
        "", status=404, headers={"Set-Cookie": "A3=d=AQABBtest&S=AQAAAtest; Path=/"}
    )
    server.expect_request("/v1/test/getcrumb").respond_with_data(
        "Xa1bC2dE3fG", content_type="text/plain"
    )


def yahoo_chart(server: HTTPServer, ticker: str, range_file: str, data_file: str) -> None:
    """The v8 chart endpoint of `ticker`: the timezone lookup (range=1d) answered with
    `range_file`, every data request with `data_file`."""
    lookup, bars = text(f"yahoo/{range_file}"), text(f"yahoo/{data_file}")

    def chart(request: Request) -> Response:
        body = lookup if "range" in request.args else bars
        return Response(body, content_type="application/json;charset=utf-8")

    server.expect_request(f"/v8/finance/chart/{ticker}").respond_with_handler(chart)


def yahoo_elsewhere(server: HTTPServer) -> None:
    """Anything else yfinance asks for (consent pages, the quote endpoint): Yahoo's 404. Last:
    pytest-httpserver tries handlers in the order they were added."""
    server.expect_request(re.compile(".*")).respond_with_data("Not Found", status=404)

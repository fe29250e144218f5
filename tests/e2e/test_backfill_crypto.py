"""`tickwire backfill` of crypto history end to end: CoinGecko daily bars, Binance hourly bars and
trades and Kraken trades (through ccxt), from a local server answering with the vendors' fixture
files, through normalize and the sink (processes, real broker and database) to the API."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tickwire_normalize.domain.venues import MAPPINGS
from tickwire_testing import vendors
from tickwire_testing.expected import bar, from_iso, iso, micros, served_bar
from tickwire_testing.history import HistoryPipeline
from tickwire_testing.processes import wait_for

pytestmark = pytest.mark.e2e

DAY_US = 86_400_000_000
H = vendors.HOUR_MS
T0 = 1_709_251_200_000  # 2024-03-01T00:00:00Z, ms
COUNTS = ("fetched", "published", "stored", "already_present", "rejected", "pending")


def counts(line: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(line[k] for k in COUNTS)


def served_bars(history: HistoryPipeline, instrument: str, source: str, **span: str) -> list:
    body = history.get("/v1/bars", instrument=instrument, source=source, **span)
    return [served_bar(row) for row in body["bars"]]


def served_ticks(history: HistoryPipeline, instrument: str, provider: str, **span: str) -> list:
    ticks, cursor = [], None
    while True:
        page = history.get(
            "/v1/ticks", instrument=instrument, provider=provider, cursor=cursor, **span
        )
        ticks += page["ticks"]
        cursor = page["next_cursor"]
        if cursor is None:
            return ticks


def coverage(history: HistoryPipeline, instrument: str) -> list[tuple[Any, ...]]:
    body = history.get("/v1/instruments")
    [entry] = [e for e in body["backfilled"] if e["instrument"] == instrument]
    return [
        (c["dataset"], c["source"], c["interval"], c["first_day"], c["last_day"], c["rows"])
        for c in entry["coverage"]
    ]


# --- CoinGecko --------------------------------------------------------------------------------

CG_SINCE_US = 1_704_067_200_000_000  # 2024-01-01
CG_MIDDLE_US = CG_SINCE_US + 180 * DAY_US  # the end of CoinGecko's first 180-day window
CG_UNTIL_US = CG_SINCE_US + 200 * DAY_US  # 2024-07-19
CG_RANGE = ["--since", "2024-01-01", "--until", "2024-07-19"]


def coingecko_bars() -> list[tuple[Any, ...]]:
    """Each candle (stamped with its close) joined with the volume point at that close; the
    first answer starts a day before the range."""
    candles = vendors.data("coingecko/ohlc_range_1.json")[1:]
    candles += vendors.data("coingecko/ohlc_range_2.json")
    volumes = vendors.data("coingecko/market_chart_range_1.json")["total_volumes"][1:]
    volumes += vendors.data("coingecko/market_chart_range_2.json")["total_volumes"]
    assert [c[0] for c in candles] == [v[0] for v in volumes]
    return [bar(c[0] * 1000 - DAY_US, *c[1:], v[1]) for c, v in zip(candles, volumes, strict=True)]


def test_coingecko_daily_bars_are_served_once_and_a_rerun_adds_nothing(
    history: HistoryPipeline, httpserver: HTTPServer
) -> None:
    vendors.coingecko_coin(httpserver)
    vendors.coingecko_window(
        httpserver, CG_SINCE_US, CG_MIDDLE_US, "ohlc_range_1.json", "market_chart_range_1.json"
    )
    vendors.coingecko_window(
        httpserver, CG_MIDDLE_US, CG_UNTIL_US, "ohlc_range_2.json", "market_chart_range_2.json"
    )
    backfill = history.backfill(httpserver.url_for(vendors.COINGECKO_ROOT), "coingecko")
    expected = coingecko_bars()
    n = len(expected)
    span = {"interval": "1d", "start": iso(CG_SINCE_US), "end": iso(CG_UNTIL_US)}

    [first] = backfill.json_lines(
        "backfill", "coingecko", "--instruments", "bitcoin:usd", *CG_RANGE
    )
    assert (first["status"], first["pages"]) == ("done", 2)
    assert counts(first) == (n, n, n, 0, {}, 0)
    assert served_bars(history, "BTC-USD", "coingecko", **span) == expected
    assert coverage(history, "BTC-USD") == [
        ("bars", "coingecko", "1d", iso(CG_SINCE_US)[:10], iso(CG_UNTIL_US - DAY_US)[:10], n)
    ]

    asked = len(httpserver.log)
    [again] = backfill.json_lines(
        "backfill", "coingecko", "--instruments", "bitcoin:usd", *CG_RANGE
    )
    assert (again["status"], again["published"]) == ("up to date", 0)
    assert len(httpserver.log) == asked  # the watermark: nothing asked of the vendor

    [restarted] = backfill.json_lines(
        "backfill", "coingecko", "--instruments", "bitcoin:usd", *CG_RANGE, "--restart"
    )
    assert counts(restarted) == (n, n, 0, n, {}, 0)
    assert served_bars(history, "BTC-USD", "coingecko", **span) == expected


# --- Binance and Kraken through ccxt -----------------------------------------------------------

BN_UNTIL_MS = T0 + 1003 * H  # the two kline pages: 1000 + 3 hours


def test_binance_hourly_bars_are_served_and_a_bad_candle_is_a_dead_letter(
    history: HistoryPipeline, httpserver: HTTPServer
) -> None:
    vendors.exchange_markets(httpserver, "binance")
    vendors.binance_klines(httpserver, T0, T0 + 1000 * H, "klines_1h_page1.json")
    vendors.binance_klines(httpserver, T0 + 1000 * H, BN_UNTIL_MS, "klines_1h_page2.json")
    backfill = history.backfill(httpserver.url_for("/"), "binance")
    klines = vendors.data("binance/klines_1h_page1.json")
    klines += vendors.data("binance/klines_1h_page2.json")
    bad = [k for k in klines if k[2] == "abc"]  # the malformed high
    expected = [bar(k[0] * 1000, *k[1:6]) for k in klines if k not in bad]
    instrument = MAPPINGS["binance"].symbol("BTCUSDT")

    args = ["--instruments", "BTCUSDT", "--interval", "1h"]
    args += ["--since", iso(T0 * 1000), "--until", iso(BN_UNTIL_MS * 1000)]
    [line] = backfill.json_lines("backfill", "binance", *args)
    n = len(klines)
    assert counts(line) == (n, n, n - len(bad), 0, {"missing_value": len(bad)}, 0)
    span = {"interval": "1h", "start": iso(T0 * 1000), "end": iso(BN_UNTIL_MS * 1000)}
    assert served_bars(history, instrument, "binance", **span) == expected
    # The bad candle is in the dead letters with its reason, as the venue sent it but for ccxt's
    # reading of the unreadable high.
    [(reason, payload)] = history.rejects("binance")
    assert reason == "missing_value"
    assert payload == [bad[0][0], *(None if v == "abc" else float(v) for v in bad[0][1:6])]

    [again] = backfill.json_lines("backfill", "binance", *args)
    assert (again["status"], again["published"]) == ("up to date", 0)
    assert served_bars(history, instrument, "binance", **span) == expected


def binance_trades(httpserver: HTTPServer, slow_s: float = 0.0) -> None:
    """Two pages and an empty hour; the second page after `slow_s`."""
    last = vendors.data("binance/agg_trades_page1.json")[-1]["T"]
    vendors.exchange_markets(httpserver, "binance")
    vendors.binance_agg_trades(httpserver, T0, T0 + H, "agg_trades_page1.json")
    vendors.binance_agg_trades(httpserver, last, last + H, "agg_trades_page2.json", slow_s)
    vendors.binance_agg_trades(httpserver, last + H, T0 + 2 * H, None)


def expected_binance_trades(pages: int = 2) -> list[tuple[Any, ...]]:
    trades = vendors.data("binance/agg_trades_page1.json")
    if pages == 2:
        trades += vendors.data("binance/agg_trades_page2.json")
    unique = {t["a"]: t for t in trades}  # the second page starts again at the first's instant
    return [
        (str(t["a"]), t["T"] * 1000, float(t["p"]), float(t["q"]), "sell" if t["m"] else "buy")
        for t in sorted(unique.values(), key=lambda t: (t["T"], t["a"]))
    ]


def served_trades(history: HistoryPipeline, venue: str, venue_name: str) -> list:
    span = {"start": iso(T0 * 1000), "end": iso((T0 + 2 * H) * 1000)}
    ticks = served_ticks(history, MAPPINGS[venue].symbol(venue_name), venue, **span)
    assert {(t["kind"], t["history"]) for t in ticks} == {("trade", True)}
    return sorted(
        (t["trade_id"], from_iso(t["exchange_ts"]), t["last_traded_price"], t["last_traded_volume"],
         t["side"])
        for t in ticks
    )  # fmt: skip


def test_binance_trades_killed_mid_way_and_rerun_are_served_once(
    history: HistoryPipeline, httpserver: HTTPServer
) -> None:
    binance_trades(httpserver, slow_s=5)
    backfill = history.backfill(httpserver.url_for("/"), "binance")
    args = ["backfill", "binance", "--trades", "--instruments", "BTCUSDT"]
    args += ["--since", iso(T0 * 1000), "--until", iso((T0 + 2 * H) * 1000)]

    running = backfill.start(*args)
    # The first page is published and its watermark stored; the second is being fetched.
    wait_for(
        lambda: history.rows(
            "SELECT 1 FROM backfill_watermarks WHERE source = 'binance' AND dataset = 'trades'"
        ),
        60,
        "the first page's watermark",
    )
    time.sleep(0.5)
    running.kill()
    expected = expected_binance_trades()
    # The watermark moves once the broker has the page, not once the sink has stored it: wait
    # for the first page to be served, all of it and nothing of the second.
    first_page = expected_binance_trades(pages=1)
    instrument = MAPPINGS["binance"].symbol("BTCUSDT")
    span = {"start": iso(T0 * 1000), "end": iso((T0 + 2 * H) * 1000)}
    wait_for(
        lambda: len(served_ticks(history, instrument, "binance", **span)) >= len(first_page),
        60,
        "the first page's trades served",
    )
    assert served_trades(history, "binance", "BTCUSDT") == sorted(first_page)
    assert len(first_page) < len(expected)  # not all there
    assert history.rows("SELECT status FROM backfill_runs WHERE source = 'binance'"
                        " AND dataset = 'trades'") == [("running",)]  # fmt: skip

    httpserver.clear()
    binance_trades(httpserver)
    [rerun] = backfill.json_lines(*args)
    assert rerun["status"] == "done" and rerun["pending"] == 0 and rerun["rejected"] == {}
    assert rerun["stored"] + rerun["already_present"] == rerun["published"]
    served = served_trades(history, "binance", "BTCUSDT")
    # Exactly what one clean run stores: every trade of the fixtures, each once.
    assert served == sorted(expected)


def test_kraken_trades_are_served_with_the_venues_microseconds(
    history: HistoryPipeline, httpserver: HTTPServer
) -> None:
    page1 = vendors.data("kraken/trades_page1.json")["result"]["XXBTZUSD"]
    page2 = vendors.data("kraken/trades_page2.json")["result"]["XXBTZUSD"]
    vendors.exchange_markets(httpserver, "kraken")
    vendors.kraken_trades(httpserver, T0 // 1000, "trades_page1.json")
    vendors.kraken_trades(httpserver, int(page1[-1][2]), "trades_page2.json")
    unique = {t[6]: t for t in page1 + page2}
    expected = sorted(
        (str(t[6]), micros(t[2]), float(t[0]), float(t[1]), "sell" if t[3] == "s" else "buy")
        for t in unique.values()
    )
    backfill = history.backfill(httpserver.url_for("/"), "kraken")
    [line] = backfill.json_lines(
        "backfill", "kraken", "--trades", "--instruments", "BTC/USD",
        "--since", iso(T0 * 1000), "--until", iso((T0 + H) * 1000),
    )  # fmt: skip
    n = len(expected)
    assert counts(line) == (n, n, n, 0, {}, 0)
    served = served_trades(history, "kraken", "BTC/USD")
    assert served == expected

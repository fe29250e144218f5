"""`tickwire backfill yahoo` end to end: daily bars (raw OHLC with the adjusted close beside
them) from a local server answering with Yahoo's chart fixtures through yfinance, normalize and
the sink to the API; rows of nulls are dead letters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tickwire_testing import vendors
from tickwire_testing.cli import Tickwire
from tickwire_testing.expected import from_iso
from tickwire_testing.history import HistoryPipeline

pytestmark = pytest.mark.e2e

COUNTS = ("fetched", "published", "stored", "already_present", "rejected", "pending")
NEW_YORK_WINTER = timedelta(hours=-5)  # the fixtures' January dates: EST


def counts(line: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(line[k] for k in COUNTS)


def daily(name: str) -> list[tuple[Any, ...]]:
    """The chart's days as bars: 00:00 UTC of the New York date, unadjusted OHLC, volume (none
    is 0, as yfinance fills it) and the adjusted close; None where Yahoo sent null."""
    result = vendors.data(f"yahoo/{name}")["chart"]["result"][0]
    quote, adjusted = result["indicators"]["quote"][0], result["indicators"]["adjclose"][0]
    bars = []
    for i, stamp in enumerate(result["timestamp"]):
        day = (datetime.fromtimestamp(stamp, UTC) + NEW_YORK_WINTER).date()
        start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000
        ohlc = [quote[k][i] for k in ("open", "high", "low", "close")]
        bars.append((start, *ohlc, float(quote["volume"][i] or 0), adjusted["adjclose"][i]))
    return bars


def day(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).date().isoformat()


def served(history: HistoryPipeline, instrument: str, start: str, end: str) -> list[Any]:
    span = {"start": f"{start}T00:00:00Z", "end": f"{end}T00:00:00Z"}
    body = history.get("/v1/bars", instrument=instrument, source="yahoo", interval="1d", **span)
    return [
        (from_iso(b["start_ts"]), b["open"], b["high"], b["low"], b["close"], b["volume"],
         b["adj_close"])
        for b in body["bars"]
    ]  # fmt: skip


def yahoo(history: HistoryPipeline, server: HTTPServer, cache: Path) -> Tickwire:
    # yfinance keeps its cookie and timezone caches under the user's cache directory.
    return history.backfill(server.url_for("/"), "yahoo").with_env(XDG_CACHE_HOME=str(cache))


def test_daily_bars_are_served_with_the_adjusted_close_and_a_rerun_adds_nothing(
    history: HistoryPipeline, httpserver: HTTPServer, tmp_path: Path
) -> None:
    vendors.yahoo_session(httpserver)
    vendors.yahoo_chart(httpserver, "AAPL", "chart_AAPL_range_1d.json", "chart_AAPL_1d.json")
    vendors.yahoo_elsewhere(httpserver)
    expected = daily("chart_AAPL_1d.json")
    n = len(expected)
    backfill = yahoo(history, httpserver, tmp_path)
    args = ["backfill", "yahoo", "--instruments", "AAPL", "--since", "2025-01-01"]
    args += ["--until", "2025-01-11"]

    [line] = backfill.json_lines(*args)
    assert counts(line) == (n, n, n, 0, {}, 0)
    assert served(history, "AAPL", "2025-01-01", "2025-01-11") == expected

    [entry] = [e for e in history.get("/v1/instruments")["backfilled"] if e["instrument"] == "AAPL"]
    assert [(c["dataset"], c["source"], c["interval"], c["first_day"], c["last_day"], c["rows"])
            for c in entry["coverage"]] == [
        ("bars", "yahoo", "1d", day(expected[0][0]), day(expected[-1][0]), n)
    ]  # fmt: skip

    [again] = backfill.json_lines(*args)
    assert (again["status"], again["published"]) == ("up to date", 0)
    [restarted] = backfill.json_lines(*args, "--restart")
    assert counts(restarted) == (n, n, 0, n, {}, 0)
    assert served(history, "AAPL", "2025-01-01", "2025-01-11") == expected


def test_days_of_nulls_are_dead_letters_with_their_reason(
    history: HistoryPipeline, httpserver: HTTPServer, tmp_path: Path
) -> None:
    vendors.yahoo_session(httpserver)
    vendors.yahoo_chart(httpserver, "GME", "chart_GME_range_1d.json", "chart_GME_1d_nulls.json")
    vendors.yahoo_elsewhere(httpserver)
    rows = [r for r in daily("chart_GME_1d_nulls.json") if r[0] < 1_736_380_800_000_000]
    good = [r for r in rows if None not in r[1:5]]
    bad = [r for r in rows if r not in good]
    assert good and bad
    backfill = yahoo(history, httpserver, tmp_path)

    [line] = backfill.json_lines(
        "backfill", "yahoo", "--instruments", "GME", "--since", "2025-01-06", "--until",
        "2025-01-09",
    )  # fmt: skip
    n = len(rows)
    assert counts(line) == (n, n, len(good), 0, {"missing_value": len(bad)}, 0)
    assert served(history, "GME", "2025-01-06", "2025-01-09") == good
    dead = history.rejects("yahoo")
    assert [(reason, payload["ts"] * 1000) for reason, payload in dead] == [
        ("missing_value", r[0]) for r in bad
    ]

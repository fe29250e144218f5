"""The dashboard's data-quality calendar in a real browser (headless Chromium driven by selenium)
against the API as its own process on a real TimescaleDB: a cell per feed and day coloured by the
stored coverage, gaps marked, and a day's report shown on click."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb
from selenium import webdriver
from selenium.webdriver.common.by import By

from tickwire_core.serde import AvroSerde
from tickwire_sink.adapters.migrations import migrate
from tickwire_sink.adapters.status import write_feeds
from tickwire_sink.adapters.ticks import TickWriter
from tickwire_sink.domain.status import feed_parts, feed_updates
from tickwire_testing.browser import wait
from tickwire_testing.processes import Service
from tickwire_testing.ticks import quote

pytestmark = pytest.mark.integration

DAYS = 35
TODAY = datetime.now(UTC).date()
BTC = ("binance", "BTC-USDT")
AAPL = ("yahoo", "AAPL")
MAPS = ("gaps_by_reason", "rejects_by_reason", "anomalies_by_rule", "bar_agreement")


def btc_day(ago: int, coverage: float, gaps: int) -> dict[str, Any]:
    covered = round(1440 * coverage)
    return {
        "provider": BTC[0],
        "instrument": BTC[1],
        "day": TODAY - timedelta(days=ago),
        "calendar": "24/7",
        "session_minutes": 1440,
        "covered_minutes": covered,
        "coverage": covered / 1440,
        "ticks": 5000 + ago,
        "quotes": 4000,
        "trades": 1000 + ago,
        "gaps": gaps,
        "gap_seconds": 30.0 * gaps,
        "gaps_by_reason": {"disconnect": {"gaps": gaps, "seconds": 30.0 * gaps, "lost": 0}}
        if gaps
        else {},
        "duplicates": 125,
        "duplicate_rate": 125 / (125 + 5000 + ago),
        "rejects": 3,
        "rejects_by_reason": {"non_positive_price": 3},
        "late_ticks": 2,
        "anomalies": 5,
        "anomalies_by_rule": {"late_tick": {"warning": 2}, "zscore": {"critical": 3}},
        "tickwire_version": "0.1.0",
    }


def aapl_day(ago: int) -> dict[str, Any]:
    day = TODAY - timedelta(days=ago)
    session = 390 if day.weekday() < 5 else 0
    return {
        "provider": AAPL[0],
        "instrument": AAPL[1],
        "day": day,
        "calendar": "XNYS",
        "session_minutes": session,
        "covered_minutes": 117 if session else 0,
        "coverage": 0.3 if session else None,
        "ticks": 700 if session else 0,
        "tickwire_version": "0.1.0",
    }


# BTC: full yesterday with two gaps, half the day before, no report three days ago, 95% before.
ROWS = [btc_day(1, 1.0, 2), btc_day(2, 0.5, 0), btc_day(4, 0.95, 1)]
ROWS += [btc_day(ago, 0.999, 0) for ago in range(5, DAYS)]
ROWS += [aapl_day(ago) for ago in range(1, 15)]
# By date, not by days ago: the suite may pass midnight between building ROWS and the page's load.
EXPECTED_BANDS = {
    (BTC, TODAY - timedelta(days=ago)): expected
    for ago, expected in ((1, "full"), (2, "mid"), (3, "missing"), (4, "high"))
}


def band(row: dict[str, Any] | None) -> str:
    if row is None:
        return "missing"
    coverage = row["coverage"]
    if coverage is None:
        return "closed"
    return (
        "full"
        if coverage >= 0.99
        else "high"
        if coverage >= 0.9
        else "mid"
        if coverage >= 0.5
        else "low"
    )


@pytest.fixture
def page(
    browser: webdriver.Chrome, tmp_path: Path, database_url: str
) -> Iterator[tuple[webdriver.Chrome, str]]:
    now_us = int(datetime.now(UTC).timestamp() * 1_000_000)
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        # A feed with a tick, so the page's instrument list (which it loads first) is not empty.
        ticks = [quote(BTC[1], now_us, 1.0, 2.0, BTC[0])]
        TickWriter(conn, AvroSerde().schema("tick")).write(ticks)
        write_feeds(conn, feed_updates((part, ticks, 1) for part in feed_parts(ticks)))
        for row in ROWS:
            names = list(row)
            conn.execute(
                f"INSERT INTO quality_daily ({', '.join(names)})"
                f" VALUES ({', '.join(['%s'] * len(names))})",
                [Jsonb(row[n]) if n in MAPS else row[n] for n in names],
            )
    api = Service("tickwire_api", "api", tmp_path, {"DATABASE_URL": database_url})
    api.env.update(
        TICKWIRE_API_HOST="127.0.0.1",
        TICKWIRE_API_PORT=str(api.port),
        TICKWIRE_ALLOW_ANONYMOUS="true",
    )
    api.start(timeout=30)
    try:
        browser.get(f"http://127.0.0.1:{api.port}/dashboard")
        yield browser, database_url
    finally:
        api.stop()


CELLS = """
return [...document.querySelectorAll("#quality-calendar button.day")].map((b) => ({
  ...b.dataset, classes: b.className, colour: getComputedStyle(b).backgroundColor,
}));
"""


def test_the_calendar_colours_each_day_by_coverage_and_shows_its_report_on_click(
    page: tuple[webdriver.Chrome, str],
) -> None:
    browser, _ = page
    wait(
        browser,
        lambda d: d.find_element(By.ID, "quality-calendar").get_attribute("data-state") == "ready",
        "the quality calendar",
    )
    cells = browser.execute_script(CELLS)
    # The page draws the days ending with its own UTC today, which is TODAY unless the clock has
    # passed midnight since ROWS were built; then it is a later day, never an earlier one.
    drawn = browser.find_element(By.ID, "quality-calendar").get_attribute("data-days") or ""
    page_today = date.fromisoformat(drawn.split("..")[-1])
    assert TODAY <= page_today <= datetime.now(UTC).date(), drawn
    days = [page_today - timedelta(days=ago) for ago in range(DAYS - 1, -1, -1)]
    stored = {((r["provider"], r["instrument"]), r["day"]): r for r in ROWS}
    # One line per feed, instrument order: AAPL then BTC-USDT; a cell per day, oldest first.
    assert [(c["provider"], c["instrument"], c["day"]) for c in cells] == [
        (*feed, day.isoformat()) for feed in (AAPL, BTC) for day in days
    ]
    for c in cells:
        row = stored.get(((c["provider"], c["instrument"]), date.fromisoformat(c["day"])))
        assert c["band"] == band(row), c
        assert ("gapped" in c["classes"].split()) == bool(row and row.get("gaps")), c
    by_key = {((c["provider"], c["instrument"]), date.fromisoformat(c["day"])): c for c in cells}
    for key, expected in EXPECTED_BANDS.items():
        assert by_key[key]["band"] == expected
    weekend = [c for c in cells if c["instrument"] == "AAPL" and c["band"] == "closed"]
    assert len(weekend) >= 4  # two weeks of a weekday-only calendar
    # Each band is its own colour.
    colours = {c["band"]: c["colour"] for c in cells}
    assert len(set(colours.values())) == len(colours) >= 5

    yesterday = (TODAY - timedelta(days=1)).isoformat()
    browser.find_element(
        By.CSS_SELECTOR, f'button.day[data-instrument="BTC-USDT"][data-day="{yesterday}"]'
    ).click()
    details = wait(
        browser,
        lambda d: (
            d.find_element(By.ID, "quality-details")
            if d.find_element(By.ID, "quality-details").get_attribute("data-day") == yesterday
            else None
        ),
        "the day's report",
    )
    fields = {
        dd.get_attribute("data-field"): dd.text
        for dd in details.find_elements(By.CSS_SELECTOR, "dd")
    }
    assert fields["coverage"] == "100.0% of 1440 min (24/7)"
    assert fields["ticks"] == "5001 (quotes 4000, trades 1001, tickers 0)"
    assert fields["gaps"] == "2, 60 s lost: disconnect 2 (60 s)"
    assert fields["duplicates"] == f"125 ({125 / 5126:.1%})"
    assert fields["rejects"] == "3: non_positive_price 3"
    assert fields["anomalies"] == "5: late_tick: warning 2; zscore: critical 3"
    assert fields["late ticks"] == "2"

    missing = (TODAY - timedelta(days=3)).isoformat()
    browser.find_element(
        By.CSS_SELECTOR, f'button.day[data-instrument="BTC-USDT"][data-day="{missing}"]'
    ).click()
    wait(
        browser,
        lambda d: d.find_element(By.ID, "quality-details").get_attribute("data-day") == missing,
        "the missing day",
    )
    assert "none for this day" in browser.find_element(By.ID, "quality-details").text


def test_the_calendars_computations(page: tuple[webdriver.Chrome, str]) -> None:
    browser, _ = page

    def in_page(expression: str, *arguments: Any) -> Any:
        script = (
            "const done = arguments[arguments.length - 1];"
            "const args = [...arguments].slice(0, -1);"
            "import(new URL('dashboard/quality.js', location.href).href)"
            f".then((q) => done({expression}), (e) => done({{error: String(e)}}));"
        )
        return browser.execute_async_script(script, *arguments)

    noon = int(datetime(2024, 3, 1, 12, tzinfo=UTC).timestamp() * 1000)
    assert in_page("q.qualityDays(args[0], 3)", noon) == ["2024-02-28", "2024-02-29", "2024-03-01"]
    assert in_page("q.dayAfter('2024-12-31')") == "2025-01-01"
    bands = [None, {"coverage": None}, {"coverage": 0.99}, {"coverage": 0.9}, {"coverage": 0.5}]
    bands += [{"coverage": 0.4999}, {"coverage": 0.0}]
    assert in_page("args[0].map(q.coverageBand)", bands) == [
        "missing",
        "closed",
        "full",
        "high",
        "mid",
        "low",
        "low",
    ]
    rows = [
        {"provider": "b", "instrument": "X", "day": "2024-01-02"},
        {"provider": "a", "instrument": "X", "day": "2024-01-01"},
        {"provider": "z", "instrument": "A", "day": "2024-01-01"},
        {"provider": "a", "instrument": "X", "day": "2024-01-02"},
    ]
    grouped = "q.feedsOf(args[0]).map((f) => [f.provider, f.instrument, [...f.days.keys()]])"
    assert in_page(grouped, rows) == [
        ["z", "A", ["2024-01-01"]],
        ["a", "X", ["2024-01-01", "2024-01-02"]],
        ["b", "X", ["2024-01-02"]],
    ]

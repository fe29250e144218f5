"""The dashboard in a real browser: Debian's Chromium, headless, driven by selenium, against the API
as its own process on a real TimescaleDB. What the page draws is checked against the stored rows."""

import hashlib
import math
import struct
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pytest
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select

from tickwire_core.serde import AvroSerde
from tickwire_sink.adapters.status import write_feeds
from tickwire_sink.adapters.table_writer import TableWriter
from tickwire_sink.adapters.ticks import TickWriter
from tickwire_sink.domain.records import ANOMALIES, BARS
from tickwire_sink.domain.status import feed_parts, feed_updates
from tickwire_testing.browser import api_server, headless_chromium, wait

pytestmark = pytest.mark.e2e

KEY = "tw_dash_5b1e07c9a4"
N_BARS = 90
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# (provider, instrument, start price); the select lists instruments by name: BTC-USDT first.
INSTRUMENTS = [("binance", "BTC-USDT", 65_000.0), ("simulator", "SIM-ETH-USD", 3_500.0)]
WATCHED = INSTRUMENTS[1]
WIDTHS = {"1m": timedelta(minutes=1), "5m": timedelta(minutes=5)}


def micros(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(microseconds=1)


def minute_bars(provider: str, instrument: str, price: float, first: datetime) -> list[dict]:
    """N_BARS one-minute bars from `first`: a slow wave with some noise, whole-cent prices."""
    bars = []
    for i in range(N_BARS):
        open_ = round(price * (1 + 0.004 * math.sin(i / 9) + 0.0007 * math.sin(i * 2.3)), 2)
        close = round(price * (1 + 0.004 * math.sin((i + 1) / 9) + 0.0007 * math.cos(i * 1.7)), 2)
        bars.append(
            {
                "provider": provider,
                "instrument": instrument,
                "interval": "1m",
                "start_ts": micros(first + timedelta(minutes=i)),
                "open": open_,
                "high": round(max(open_, close) * 1.0004, 2),
                "low": round(min(open_, close) * 0.9996, 2),
                "close": close,
                "volume": float(1 + (i * 7) % 13),
                "tick_count": 10 + i % 5,
                "source": "trade",
            }
        )
    return bars


def seed(database_url: str) -> dict[str, Any]:
    """Ticks (so both instruments are listed), N_BARS minute bars each ending at the current
    minute, two anomalies of the watched instrument, and the status of services and feeds."""
    now = datetime.now(UTC)
    first = now.replace(second=0, microsecond=0) - timedelta(minutes=N_BARS)
    bars = [row for p, i, price in INSTRUMENTS for row in minute_bars(p, i, price, first)]
    watched = [b for b in bars if b["instrument"] == WATCHED[1]]
    spike, jump = watched[70], watched[80]
    anomalies = [
        {
            "provider": WATCHED[0],
            "instrument": WATCHED[1],
            "ts": spike["start_ts"] + 20_000_000,
            "rule": "zscore",
            "severity": "critical",
            "value": 6.5,
            "threshold": 4.0,
            "window_mean": spike["close"],
            "window_stddev": 1.5,
            "window_count": 200,
            "detail": "price is +6.50 standard deviations from the mean; not used",
        },
        {
            "provider": WATCHED[0],
            "instrument": WATCHED[1],
            "ts": jump["start_ts"] + 5_000_000,
            "rule": "gap_jump",
            "severity": "warning",
            "value": 72.5,
            "threshold": 50.0,
            "detail": "first price after a gap is +72.5 bps from the last price before it",
        },
    ]
    ticks = [
        {
            "provider": provider,
            "instrument": instrument,
            "kind": "quote",
            "exchange_ts": micros(now) - n * 1_000_000,
            "received_ts": micros(now) - n * 1_000_000 + 3_000,
            "bid_price": price - 0.5,
            "ask_price": price + 0.5,
            "venue_seq": n,
        }
        for provider, instrument, price in INSTRUMENTS
        for n in range(3)
    ]
    with psycopg.connect(database_url) as conn:
        TickWriter(conn, AvroSerde().schema("tick")).write(ticks)
        TableWriter.for_table(conn, BARS).write([BARS.to_row(b) for b in bars])
        TableWriter.for_table(conn, ANOMALIES).write([ANOMALIES.to_row(a) for a in anomalies])
        for service, instance, age_s in [
            ("sink", "sink-1", 2),
            ("normalize", "normalize-1", 3),
            ("signals", "signals-1", 600),  # silent for ten minutes: stale
        ]:
            conn.execute(
                "INSERT INTO service_status (service, instance, heartbeat_at, rows_in, rows_out,"
                " rows_refused, batches_failed, circuit, lag)"
                " VALUES (%s, %s, now() - make_interval(secs => %s), 1200, 1190, 2, 0,"
                " 'closed', 4)",
                (service, instance, age_s),
            )
        # The feeds' status as the sink records it from the ticks it wrote.
        written = [
            (part, [ticks[i] for i in at], len(at)) for part, at in feed_parts(ticks).items()
        ]
        write_feeds(conn, feed_updates(written))
    return {"anomalies": anomalies, "jump_close": jump["close"]}


@pytest.fixture
def served(tmp_path: Path, database_url: str) -> Iterator[Any]:
    with api_server(tmp_path, database_url) as serve:
        yield serve


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    with headless_chromium(profile, tmp_path_factory.mktemp("chromedriver")) as driver:
        yield driver


# What the chart shows, read in one go: a refresh that draws anew between two reads of separate
# elements would otherwise mix two drawings.
SNAPSHOT = """
const chart = document.getElementById("chart");
const all = (css) => [...chart.querySelectorAll(css)];
const numbers = (text) => (text ? text.split(",").map(Number) : []);
return {
  ...chart.dataset,
  range: new URLSearchParams(location.hash.slice(1)).get("range"),
  candles: all("[data-candle]").map((c) => ({ ts: c.dataset.ts, close: Number(c.dataset.close) })),
  volumes: all("rect[data-volume]").length,
  averages: Object.fromEntries(all("polyline[data-sma]").map((line) => [line.dataset.sma, {
    points: line.getAttribute("points").split(" ").filter(Boolean).length,
    values: numbers(line.dataset.values),
  }])),
  anomalies: all("[data-anomaly]").map((m) => ({ ...m.dataset, fill: getComputedStyle(m).fill })),
  ratios: all("polyline[data-ratio]").map((line) => ({
    days: line.dataset.days ? line.dataset.days.split(",") : [],
    values: numbers(line.dataset.values),
  })),
};
"""


def drawn(driver: webdriver.Chrome, instrument: str, interval: str, range_: str) -> dict[str, Any]:
    """What the chart shows, once it shows `instrument` at `interval` over `range_`."""
    wanted = {"state": "ready", "instrument": instrument, "interval": interval, "range": range_}

    def shown(d: webdriver.Chrome) -> dict[str, Any] | None:
        snapshot: dict[str, Any] = d.execute_script(SNAPSHOT)
        return snapshot if all(snapshot.get(k) == v for k, v in wanted.items()) else None

    return wait(driver, shown, f"the chart of {instrument} at {interval} over {range_}")


def averages(snapshot: dict[str, Any], window: int) -> list[float]:
    line = snapshot["averages"][str(window)]
    assert line["points"] == len(line["values"])
    return list(line["values"])


def stored_closes(database_url: str, snapshot: dict[str, Any], interval: str) -> list[float]:
    """Closes of the watched instrument's buckets in the range the page asked for."""
    start, end = (datetime.fromisoformat(snapshot[k]) for k in ("start", "end"))
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT time_bucket(%s, start_ts) AS bucket, last(close, start_ts) FROM bars"
            " WHERE provider = %s AND instrument = %s AND \"interval\" = '1m'"
            " AND start_ts >= %s AND start_ts < %s GROUP BY bucket ORDER BY bucket",
            (WIDTHS[interval], *WATCHED[:2], start, end),
        ).fetchall()
    return [close for _, close in rows]


def closes_of(snapshot: dict[str, Any]) -> list[float]:
    return [candle["close"] for candle in snapshot["candles"]]


def displayed(element_id: str) -> Any:
    def check(d: webdriver.Chrome) -> WebElement | None:
        element = d.find_element(By.ID, element_id)
        return element if element.is_displayed() else None

    return check


def png_colours(png: bytes) -> tuple[int, int, int]:
    """(width, height, distinct colours) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, body = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        assert struct.unpack(">I", png[at + 8 + length : at + 12 + length])[0] == zlib.crc32(
            kind + body
        )
        chunks[kind] = chunks.get(kind, b"") + body
        at += 12 + length
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, interlace) == (8, 0) and colour_type in (2, 6)
    bpp = 3 if colour_type == 2 else 4
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8)
    rows = raw.reshape(height, 1 + width * bpp)
    image = np.zeros((height, width * bpp), dtype=np.uint8)
    previous = np.zeros(width * bpp, dtype=np.int32)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        image[y] = unfilter(kind, line, previous, bpp)
        previous = image[y].astype(np.int32)
    pixels = image.reshape(height * width, bpp)
    return width, height, len(np.unique(pixels, axis=0))


def unfilter(kind: int, line: np.ndarray, up: np.ndarray, bpp: int) -> np.ndarray:
    """One scanline's bytes before the PNG filter `kind` (0 to 4) was applied."""
    if kind == 0:
        return line.astype(np.uint8)
    if kind == 2:
        return ((line + up) % 256).astype(np.uint8)
    if kind == 1:
        # Each byte adds the byte bpp to its left: a running sum per channel.
        by_channel = line.reshape(-1, bpp)
        return (np.cumsum(by_channel, axis=0) % 256).astype(np.uint8).reshape(-1)
    out = [0] * len(line)
    data, above = line.tolist(), up.tolist()
    for i, x in enumerate(data):
        a = out[i - bpp] if i >= bpp else 0
        b = above[i]
        if kind == 3:
            out[i] = (x + (a + b) // 2) % 256
            continue
        c = above[i - bpp] if i >= bpp else 0
        pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
        predictor = a if pa <= pb and pa <= pc else b if pb <= pc else c
        out[i] = (x + predictor) % 256
    return np.array(out, dtype=np.uint8)


def test_the_chart_draws_the_stored_bars_averages_anomalies_and_status(
    browser: webdriver.Chrome, served: Any, database_url: str, tmp_path: Path
) -> None:
    seeded = seed(database_url)
    base = served(TICKWIRE_ALLOW_ANONYMOUS="true")
    browser.get(f"{base}/")  # redirected to the page
    assert browser.current_url.partition("#")[0] == f"{base}/dashboard"
    select = Select(browser.find_element(By.ID, "instrument"))
    wait(browser, lambda d: len(select.options) == 2, "both instruments in the select")
    assert [o.text for o in select.options] == ["BTC-USDT (binance)", "SIM-ETH-USD (simulator)"]
    select.select_by_index(1)

    # The last hour in minute bars: as many candles as stored bars in the range the page asked.
    shown = drawn(browser, WATCHED[1], "1m", "1h")
    closes = stored_closes(database_url, shown, "1m")
    assert len(closes) >= 55
    assert closes_of(shown) == closes
    assert shown["volumes"] == len(closes)
    assert len(averages(shown, 20)) == len(closes) - 19
    assert len(averages(shown, 50)) == len(closes) - 49
    assert shown["provider"] == WATCHED[0]

    by_rule = {marker["rule"]: marker for marker in shown["anomalies"]}
    assert len(shown["anomalies"]) == 2 and set(by_rule) == {"zscore", "gap_jump"}
    spike = seeded["anomalies"][0]
    # A z-score is drawn at the price it judged; a gap jump at the close of its bar.
    assert float(by_rule["zscore"]["price"]) == pytest.approx(spike["window_mean"] + 6.5 * 1.5)
    assert float(by_rule["gap_jump"]["price"]) == seeded["jump_close"]
    assert (by_rule["zscore"]["severity"], by_rule["gap_jump"]["severity"]) == (
        "critical",
        "warning",
    )
    assert by_rule["zscore"]["fill"] != by_rule["gap_jump"]["fill"]

    services = browser.find_elements(By.CSS_SELECTOR, "#services tr[data-service]")
    alive = {s.get_attribute("data-service"): s.get_attribute("data-alive") for s in services}
    assert alive == {"normalize": "true", "signals": "false", "sink": "true"}
    feeds = browser.find_elements(By.CSS_SELECTOR, "#feeds tr[data-feed]")
    assert sorted(f.get_attribute("data-feed") for f in feeds) == sorted(
        f"{p}|{i}" for p, i, _ in INSTRUMENTS
    )

    marker = browser.find_element(By.CSS_SELECTOR, '[data-anomaly][data-rule="gap_jump"]')
    ActionChains(browser).move_to_element(marker).perform()
    tooltip = wait(browser, displayed("tooltip"), "the anomaly's tooltip")
    assert "gap_jump (warning)" in tooltip.text
    assert "value 72.5, threshold 50" in tooltip.text

    screenshot = tmp_path / "dashboard.png"
    assert browser.save_screenshot(str(screenshot))
    width, height, distinct = png_colours(screenshot.read_bytes())
    assert [width, height] == browser.execute_script(
        "return [window.innerWidth, window.innerHeight]"
    )
    assert distinct > 200, f"{distinct} colours: the screenshot is (nearly) blank"

    # Six hours: every stored bar; the averages equal pandas' rolling means of the same closes.
    Select(browser.find_element(By.ID, "range")).select_by_value("6h")
    shown = drawn(browser, WATCHED[1], "1m", "6h")
    closes = stored_closes(database_url, shown, "1m")
    assert closes_of(shown) == closes and len(closes) == N_BARS
    for window in (20, 50):
        expected = pd.Series(closes).rolling(window).mean().dropna().to_numpy()
        np.testing.assert_allclose(averages(shown, window), expected, rtol=1e-12)

    # Five-minute bars are aggregated by the API: one candle per bucket holding a stored bar.
    Select(browser.find_element(By.ID, "interval")).select_by_value("5m")
    shown = drawn(browser, WATCHED[1], "5m", "6h")
    closes = stored_closes(database_url, shown, "5m")
    assert closes_of(shown) == closes
    assert len(averages(shown, 20)) == max(0, len(closes) - 19)

    # A reload keeps the choices: they live in the URL's fragment.
    browser.refresh()
    shown = drawn(browser, WATCHED[1], "5m", "6h")
    assert closes_of(shown) == closes


def in_page(browser: webdriver.Chrome, expression: str, *arguments: Any) -> Any:
    """`expression` evaluated in the page with the module series.js as `s` and the arguments as
    `args`; a thrown error comes back as {"error": its name}."""
    script = (
        "const done = arguments[arguments.length - 1];"
        "const args = [...arguments].slice(0, -1);"
        "import(new URL('dashboard/series.js', location.href).href)"
        f".then((s) => {{ try {{ done({expression}); }}"
        " catch (e) { done({error: e.name}); } }, (e) => done({error: String(e)}));"
    )
    return browser.execute_async_script(script, *arguments)


def test_the_pages_computations(browser: webdriver.Chrome, served: Any) -> None:
    base = served(TICKWIRE_ALLOW_ANONYMOUS="true")
    browser.get(f"{base}/dashboard")

    closes = list(np.random.default_rng(7).normal(100.0, 2.0, 300).cumsum())
    for window in (1, 20, 50):
        expected = pd.Series(closes).rolling(window).mean().dropna().to_numpy()
        got = in_page(browser, "s.sma(args[0], args[1])", closes, window)
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert in_page(browser, "s.sma([1, 2, 3, 4, 5], 2)") == [1.5, 2.5, 3.5, 4.5]
    assert in_page(browser, "s.sma([1, 2], 3)") == []
    assert in_page(browser, "s.sma([1, 2], 0)") == {"error": "RangeError"}
    rows = [
        {"trade_date": "2024-06-03", "short_volume_ratio": 0.5},
        {"trade_date": "2024-05-31", "short_volume_ratio": 0.25},
        {"trade_date": "2024-05-30", "short_volume_ratio": None},  # no volume that day
    ]
    assert in_page(browser, "s.shortVolumeRatios(args[0])", rows) == [
        {"ts": micros(datetime(2024, 5, 31, tzinfo=UTC)) // 1000, "ratio": 0.25},
        {"ts": micros(datetime(2024, 6, 3, tzinfo=UTC)) // 1000, "ratio": 0.5},
    ]
    assert in_page(browser, "s.formatDay(args[0])", 1_717_200_000_000) == "2024-06-01"
    assert in_page(browser, "s.formatPercent(0.43219)") == "43.2%"

    # Minute bars at 00:00 and 00:02 (none at 00:01).
    bars = [
        {"start_ts": "2024-01-01T00:00:00Z", "open": 10, "close": 11, "source": "trade"},
        {"start_ts": "2024-01-01T00:02:00Z", "open": 12, "close": 13, "source": "trade"},
    ]
    zscore = {
        "rule": "zscore",
        "ts": "2024-01-01T00:00:30Z",
        "value": -4.5,
        "window_mean": 100.0,
        "window_stddev": 2.0,
    }
    assert in_page(browser, "s.anomalyPrice(args[0], [], 60000)", zscore) == 91.0
    prices = {
        ts: in_page(
            browser, "s.anomalyPrice(args[0], args[1], 60000)", {"rule": "gap_jump", "ts": ts}, bars
        )
        for ts in (
            "2023-12-31T23:59:00Z",
            "2024-01-01T00:00:59.999999Z",
            "2024-01-01T00:01:30Z",
            "2024-01-01T00:02:00Z",
            "2024-01-01T01:00:00Z",
        )
    }
    assert list(prices.values()) == [10, 11, 11, 13, 13]
    assert (
        in_page(
            browser,
            "s.anomalyPrice({rule: 'late_tick', ts: args[0]}, [], 60000)",
            "2024-01-01T00:00:00Z",
        )
        is None
    )

    mixed = [
        {"start_ts": "2024-01-01T00:00:00Z", "close": 1, "source": "mid"},
        {"start_ts": "2024-01-01T00:00:00Z", "close": 2, "source": "trade"},
        {"start_ts": "2024-01-01T00:01:00Z", "close": 3, "source": "trade"},
        {"start_ts": "2024-01-01T00:01:00Z", "close": 4, "source": "mid"},
    ]
    kept = in_page(browser, "s.oneBarPerBucket(args[0]).map((b) => b.close)", mixed)
    assert kept == [2, 3]
    # The last hour of minute bars at 10:30:20 ends with the bucket that holds it.
    now = datetime(2024, 1, 1, 10, 30, 20, tzinfo=UTC)
    span = in_page(browser, "s.rangeEndingAt(args[0], 3600000, 60000)", micros(now) // 1000)
    assert span == {
        "start": micros(now.replace(second=0) - timedelta(minutes=59)) // 1000,
        "end": micros(now.replace(second=0) + timedelta(minutes=1)) // 1000,
    }


def test_with_keys_the_page_asks_for_one_and_then_draws(
    browser: webdriver.Chrome, served: Any, database_url: str
) -> None:
    seed(database_url)
    base = served(TICKWIRE_API_KEY_HASHES=hashlib.sha256(KEY.encode()).hexdigest())
    # The page and its files need no key; they run nothing from elsewhere.
    with urllib.request.urlopen(f"{base}/dashboard", timeout=5) as page:
        assert page.status == 200 and b'id="chart"' in page.read()
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    with urllib.request.urlopen(f"{base}/dashboard/app.js", timeout=5) as script:
        assert script.headers["Content-Type"].startswith("text/javascript")
        etag = script.headers["ETag"]
    unchanged = urllib.request.Request(f"{base}/dashboard/app.js", headers={"If-None-Match": etag})
    for request, status in [(unchanged, 304), (f"{base}/dashboard/missing.js", 404)]:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        refused.value.close()  # it holds the response, and with it the connection
        assert refused.value.code == status

    browser.get(f"{base}/dashboard")
    key_field = wait(browser, displayed("api-key"), "the key prompt")
    statuses = browser.execute_script(
        "return performance.getEntriesByType('resource')"
        ".filter(e => new URL(e.name).pathname.startsWith('/v1/')).map(e => e.responseStatus)"
    )
    assert statuses and set(statuses) == {401}
    assert browser.find_elements(By.CSS_SELECTOR, "[data-candle]") == []

    key_field.send_keys("not-the-key\n")
    wait(browser, displayed("api-key"), "the prompt again")
    assert "refused" in browser.find_element(By.ID, "key-message").text

    browser.find_element(By.ID, "api-key").send_keys(KEY + "\n")
    select = Select(browser.find_element(By.ID, "instrument"))
    wait(browser, lambda d: len(select.options) == 2, "the instruments, with the key")
    select.select_by_index(1)
    shown = drawn(browser, WATCHED[1], "1m", "1h")
    assert closes_of(shown) == stored_closes(database_url, shown, "1m")
    assert browser.execute_script("return sessionStorage.getItem('tickwire.apiKey')") == KEY
    assert not browser.find_element(By.ID, "key-form").is_displayed()

    # A bar stored now shows up at the next refresh, the key still sent.
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    [fresh] = minute_bars(*WATCHED, now)[:1]
    with psycopg.connect(database_url) as conn:
        TableWriter.for_table(conn, BARS).write([BARS.to_row(fresh)])
    stamp = f"{now:%Y-%m-%dT%H:%M:%SZ}"

    def refreshed(d: webdriver.Chrome) -> bool:
        return any(c["ts"] == stamp for c in d.execute_script(SNAPSHOT)["candles"])

    wait(browser, refreshed, "the bar stored after the page loaded", timeout=12)


def seed_daily(database_url: str) -> None:
    """Two years of a vendor's daily bars of a backfilled equity (weekdays, ending yesterday) and
    FINRA's short volume of the same days, one of them without any volume."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    days = [today - timedelta(days=n) for n in range(730, 0, -1)]
    days = [d for d in days if d.weekday() < 5]
    bars, volumes = [], []
    for i, day in enumerate(days):
        open_ = round(180 * (1 + 0.1 * math.sin(i / 40)), 2)
        close = round(180 * (1 + 0.1 * math.sin((i + 1) / 40) + 0.004 * math.cos(i)), 2)
        high, low = round(max(open_, close) * 1.01, 2), round(min(open_, close) * 0.99, 2)
        bars.append((day, open_, high, low, close, 5e7 + 1e5 * (i % 17), round(close * 0.98, 2)))
        total = 0.0 if i == len(days) - 3 else 1e7 + 1e4 * (i % 23)
        volumes.append((day.date(), total * (0.35 + 0.1 * math.sin(i / 9)), total))
    with psycopg.connect(database_url) as conn:
        conn.cursor().executemany(
            'INSERT INTO bars (provider, instrument, "interval", start_ts, open, high, low,'
            " close, volume, tick_count, source, adj_close)"
            " VALUES ('yahoo', 'AAPL', '1d', %s, %s, %s, %s, %s, %s, 0, 'yahoo', %s)",
            bars,
        )
        conn.cursor().executemany(
            "INSERT INTO short_volume (provider, instrument, facility, trade_date, short_volume,"
            " total_volume, received_ts) VALUES ('finra', 'AAPL', 'CNMS', %s, %s, %s, now())",
            volumes,
        )


def stored_daily(database_url: str, snapshot: dict[str, Any]) -> tuple[list[float], Any]:
    """Closes of the stored daily bars in the page's range, and the short volume ratio per day
    (as YYYY-MM-DD, ratio) where there was volume."""
    start, end = (datetime.fromisoformat(snapshot[k]) for k in ("start", "end"))
    with psycopg.connect(database_url) as conn:
        closes = conn.execute(
            "SELECT close FROM bars WHERE instrument = 'AAPL' AND source = 'yahoo'"
            " AND start_ts >= %s AND start_ts < %s ORDER BY start_ts",
            (start, end),
        ).fetchall()
        ratios = conn.execute(
            "SELECT to_char(trade_date, 'YYYY-MM-DD'), short_volume / total_volume"
            " FROM short_volume WHERE instrument = 'AAPL' AND total_volume > 0"
            " AND trade_date >= %s AND trade_date < %s ORDER BY trade_date",
            (start.date(), end.date()),
        ).fetchall()
    return [c for (c,) in closes], ratios


def test_a_backfilled_equitys_daily_chart_shows_its_short_volume_ratio(
    browser: webdriver.Chrome, served: Any, database_url: str
) -> None:
    seed(database_url)
    seed_daily(database_url)
    base = served(TICKWIRE_ALLOW_ANONYMOUS="true")
    browser.get(f"{base}/dashboard")
    select = Select(browser.find_element(By.ID, "instrument"))
    wait(browser, lambda d: len(select.options) == 3, "the live feeds and the daily history")
    assert [o.text for o in select.options][-1] == "AAPL (yahoo, daily)"
    select.select_by_value('["yahoo","AAPL","yahoo"]')

    # A year of daily bars by default; the interval is the vendor's 1d and cannot be changed.
    shown = drawn(browser, "AAPL", "1d", "1y")
    closes, ratios = stored_daily(database_url, shown)
    assert len(closes) > 250 and closes_of(shown) == closes
    assert len(averages(shown, 50)) == len(closes) - 49
    [line] = shown["ratios"]
    # Every day of the range, fetched over several pages, the day without volume left out.
    assert list(zip(line["days"], line["values"], strict=True)) == [
        (day, pytest.approx(ratio, rel=1e-12)) for day, ratio in ratios
    ]
    assert len(ratios) == len(closes) - 1 and shown["anomalies"] == []
    interval = browser.find_element(By.ID, "interval")
    assert interval.get_attribute("value") == "1d" and not interval.is_enabled()
    assert browser.find_element(By.ID, "ratio-key").is_displayed()

    # Five years: every stored bar; back to a live feed, its own controls come back.
    Select(browser.find_element(By.ID, "range")).select_by_value("5y")
    shown = drawn(browser, "AAPL", "1d", "5y")
    closes, ratios = stored_daily(database_url, shown)
    assert closes_of(shown) == closes and len(shown["ratios"][0]["values"]) == len(ratios)
    select.select_by_index(1)
    shown = drawn(browser, WATCHED[1], "1m", "1h")
    assert closes_of(shown) == stored_closes(database_url, shown, "1m")
    assert shown["ratios"] == [] and interval.is_enabled()
    assert not browser.find_element(By.ID, "ratio-key").is_displayed()

"""The chart's anomaly markers in a real browser (headless Chromium), against the API as its own
process on a real TimescaleDB: a return z-score is drawn at the price it judged, with its rule and
severity, over candles that stay drawn."""

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from selenium import webdriver

from tickwire_core.serde import AvroSerde
from tickwire_sink.adapters.migrations import migrate
from tickwire_sink.adapters.status import write_feeds
from tickwire_sink.adapters.table_writer import TableWriter
from tickwire_sink.adapters.ticks import TickWriter
from tickwire_sink.domain.records import ANOMALIES, BARS
from tickwire_sink.domain.status import feed_parts, feed_updates
from tickwire_testing.browser import api_server, wait

pytestmark = pytest.mark.integration

PROVIDER, INSTRUMENT, PRICE = "simulator", "SIM-BTC-USD", 65_000.0
N_BARS = 40
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The chart's candles and markers, read in one go (a refresh between reads would mix drawings).
SNAPSHOT = """
const chart = document.getElementById("chart");
return {
  ...chart.dataset,
  candles: chart.querySelectorAll("[data-candle]").length,
  markers: [...chart.querySelectorAll("[data-anomaly]")].map((m) => ({
    ...m.dataset, title: m.querySelector("title").textContent,
    layer: m.parentNode.getAttribute("class"),
  })),
};
"""


def micros(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(microseconds=1)


def seed(database_url: str) -> list[dict[str, Any]]:
    """A tick and its feed status (so the instrument is listed), N_BARS minute bars ending at the
    current minute and two return z-score anomalies in them: a critical spike up, a warning down."""
    now = datetime.now(UTC)
    first = micros(now.replace(second=0, microsecond=0) - timedelta(minutes=N_BARS - 1))
    bars = []
    for i in range(N_BARS):
        open_, close = PRICE + 10 * math.sin(i / 5), PRICE + 10 * math.sin((i + 1) / 5)
        bars.append(
            {
                "provider": PROVIDER,
                "instrument": INSTRUMENT,
                "interval": "1m",
                "start_ts": first + i * 60_000_000,
                "open": open_,
                "high": max(open_, close) + 4,
                "low": min(open_, close) - 4,
                "close": close,
                "volume": 1.0 + i % 3,
                "tick_count": 20,
                "source": "trade",
            }
        )
    # window_mean: the reference mid; window_stddev: the volatility of returns in price units.
    anomalies = [
        {
            "provider": PROVIDER,
            "instrument": INSTRUMENT,
            "ts": bars[25]["start_ts"] + 12_000_000,
            "rule": "return_zscore",
            "severity": "critical",
            "value": 9.0,
            "threshold": 4.0,
            "window_mean": bars[25]["open"],
            "window_stddev": 19.5,
            "window_count": 200,
            "detail": "return +9.0 sigma from the last used mid; not used",
        },
        {
            "provider": PROVIDER,
            "instrument": INSTRUMENT,
            "ts": bars[31]["start_ts"] + 40_000_000,
            "rule": "return_zscore",
            "severity": "warning",
            "value": -2.8,
            "threshold": 2.5,
            "window_mean": bars[31]["open"],
            "window_stddev": 18.0,
            "window_count": 200,
            "detail": "return -2.8 sigma from the last used mid",
        },
    ]
    tick = {
        "provider": PROVIDER,
        "instrument": INSTRUMENT,
        "kind": "quote",
        "exchange_ts": micros(now),
        "received_ts": micros(now) + 3_000,
        "bid_price": PRICE - 0.5,
        "ask_price": PRICE + 0.5,
        "venue_seq": 1,
    }
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        TickWriter(conn, AvroSerde().schema("tick")).write([tick])
        TableWriter.for_table(conn, BARS).write([BARS.to_row(b) for b in bars])
        TableWriter.for_table(conn, ANOMALIES).write([ANOMALIES.to_row(a) for a in anomalies])
        # The instrument list comes from the feeds' status, which the sink records from ticks.
        write_feeds(conn, feed_updates([(part, [tick], 1) for part in feed_parts([tick])]))
    return anomalies


def test_a_return_zscore_is_marked_at_the_price_it_judged(
    browser: webdriver.Chrome, tmp_path: Path, database_url: str
) -> None:
    anomalies = seed(database_url)
    with api_server(tmp_path, database_url) as serve:
        browser.get(f"{serve(TICKWIRE_ALLOW_ANONYMOUS='true')}/dashboard")

        def drawn(d: webdriver.Chrome) -> dict[str, Any] | None:
            snapshot: dict[str, Any] = d.execute_script(SNAPSHOT)
            ready = snapshot.get("state") == "ready" and snapshot.get("instrument") == INSTRUMENT
            return snapshot if ready and len(snapshot["markers"]) == 2 else None

        shown = wait(browser, drawn, "two anomaly markers on the chart", timeout=30)
    with psycopg.connect(database_url) as conn:
        (in_range,) = conn.execute(
            "SELECT count(*) FROM bars WHERE instrument = %s AND start_ts >= %s AND start_ts < %s",
            (
                INSTRUMENT,
                datetime.fromisoformat(shown["start"]),
                datetime.fromisoformat(shown["end"]),
            ),
        ).fetchone()
    assert in_range >= N_BARS - 1 and shown["candles"] == in_range  # the markers hide no candle
    by_severity = {marker["severity"]: marker for marker in shown["markers"]}
    assert set(by_severity) == {"critical", "warning"}
    for anomaly in anomalies:
        marker = by_severity[anomaly["severity"]]
        assert marker["rule"] == "return_zscore"
        assert marker["title"].startswith(f"return_zscore ({anomaly['severity']})")
        assert marker["layer"] == "layer-anomalies"  # drawn over the candles' layer
        # The judged price: the reference mid moved by z times the volatility, in log terms.
        reference, volatility = anomaly["window_mean"], anomaly["window_stddev"]
        judged = reference * math.exp(anomaly["value"] * volatility / reference)
        assert float(marker["price"]) == pytest.approx(judged, rel=1e-12)
    # A spike of 9 sigma up is drawn above its reference, a warning of -2.8 below.
    assert float(by_severity["critical"]["price"]) > anomalies[0]["window_mean"] + 170
    assert float(by_severity["warning"]["price"]) < anomalies[1]["window_mean"] - 50

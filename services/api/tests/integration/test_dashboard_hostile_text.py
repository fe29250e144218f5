"""Text from outside (instrument and provider names, anomaly rules, gap and reject reasons, errors,
job names), shown by the dashboard in a real browser, runs no script and adds no element."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb
from selenium import webdriver

from tickwire_core.serde import AvroSerde
from tickwire_sink.adapters.status import write_feeds
from tickwire_sink.adapters.table_writer import TableWriter
from tickwire_sink.adapters.ticks import TickWriter
from tickwire_sink.domain.records import ANOMALIES, BARS
from tickwire_sink.domain.status import feed_parts, feed_updates
from tickwire_testing.browser import api_server, wait
from tickwire_testing.ticks import quote

pytestmark = pytest.mark.integration

# Each would set window.injected if the page parsed it as markup and let it run.
IMG = "<img src=x onerror=\"window.injected='img'\">"
SCRIPT = "\"><script>window.injected='script'</script>"
SVG = "<svg onload=\"window.injected='svg'\"></svg>"
ATTRIBUTE = 'x" onfocus="window.injected=\'attribute\'" autofocus=""'
# The hostile feed: listed, in the status table and the quality calendar. The API refuses its name
# as a query parameter, so the chart shows a plain feed whose anomaly carries the hostile text.
HOSTILE = (SCRIPT, IMG)
PLAIN = ("simulator", "SIM-PLAIN")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(microseconds=1)


def seed(database_url: str) -> None:
    now = datetime.now(UTC)
    first = micros(now.replace(second=0, microsecond=0) - timedelta(minutes=9))
    bars = [
        {
            **dict(zip(("provider", "instrument"), PLAIN, strict=True)),
            "interval": "1m",
            "start_ts": first + i * 60_000_000,
            **{"open": 100.0, "high": 101.0, "low": 99.0, "close": 100.5, "volume": 1.0},
            "tick_count": 3,
            "source": "trade",
        }
        for i in range(10)
    ]
    anomaly = {
        **dict(zip(("provider", "instrument"), PLAIN, strict=True)),
        "ts": bars[5]["start_ts"] + 1_000_000,
        "rule": SVG,
        "severity": ATTRIBUTE,
        **{"value": 9.0, "threshold": 4.0, "window_mean": 100.0, "window_stddev": 1.0},
        "window_count": 100,
        "detail": IMG,
    }
    ticks = [quote(feed[1], micros(now), 99.5, 100.5, feed[0]) for feed in (HOSTILE, PLAIN)]
    yesterday = now.date() - timedelta(days=1)
    with psycopg.connect(database_url) as conn:
        TickWriter(conn, AvroSerde().schema("tick")).write(ticks)
        write_feeds(conn, feed_updates((part, ticks, 1) for part in feed_parts(ticks)))
        TableWriter.for_table(conn, BARS).write([BARS.to_row(b) for b in bars])
        TableWriter.for_table(conn, ANOMALIES).write([ANOMALIES.to_row(anomaly)])
        conn.execute(
            "UPDATE feed_status SET last_gap_reason = %s, last_gap_start = now()"
            " WHERE instrument = %s",
            (SCRIPT, IMG),
        )
        conn.execute(
            "INSERT INTO service_status (service, instance, last_error, last_error_at)"
            " VALUES (%s, %s, %s, now())",
            (IMG, SCRIPT, SVG),
        )
        conn.execute(
            "INSERT INTO job_runs (job, host, status, finished_at, error)"
            " VALUES (%s, %s, 'failed', now(), %s)",
            (SCRIPT, IMG, ATTRIBUTE),
        )
        conn.execute(
            "INSERT INTO quality_daily (provider, instrument, day, calendar, session_minutes,"
            " covered_minutes, coverage, ticks, gaps, gaps_by_reason, rejects, rejects_by_reason,"
            " tickwire_version) VALUES (%s, %s, %s, '24/7', 1440, 720, 0.5, 10, 1, %s, 2, %s, %s)",
            (
                *HOSTILE,
                yesterday,
                Jsonb({IMG: {"gaps": 1, "seconds": 30.0, "lost": 0}}),
                Jsonb({SCRIPT: 2}),
                SVG,
            ),
        )


# Everything the payloads could have done, and the texts they had to become, in one read.
PROBE = """
const texts = (selector) => [...document.querySelectorAll(selector)].map((e) => e.textContent);
const rows = (table) => [...document.querySelectorAll(`#${table} tbody tr`)]
  .map((tr) => [...tr.cells].map((td) => td.textContent));
const marker = document.querySelector("#chart [data-anomaly]");
if (marker) marker.focus();  // shows its tooltip
const day = [...document.querySelectorAll("#quality-calendar button.day")]
  .find((b) => b.dataset.coverage === "0.5");
if (day && document.getElementById("quality-details").hidden) day.click();
return {
  injected: window.injected ?? null,
  images: document.querySelectorAll("img, iframe, object, embed").length,
  inlineScripts: [...document.scripts].filter((s) => !s.src).length,
  handlers: [...document.querySelectorAll("*")].flatMap((e) =>
    [...e.attributes].filter((a) => a.name.startsWith("on")).map((a) => `${e.tagName} ${a.name}`)),
  chart: document.getElementById("chart").dataset.state,
  options: [...document.getElementById("instrument").options].map((o) => o.text),
  services: rows("services"),
  feeds: rows("feeds"),
  jobs: rows("jobs"),
  markerTitle: marker?.querySelector("title")?.textContent ?? null,
  markerSeverity: marker?.dataset.severity ?? null,
  tooltip: texts("#tooltip div"),
  calendar: texts("#quality-calendar .feed-name"),
  dayTitle: day?.title ?? null,
  details: texts("#quality-details h3, #quality-details dd"),
};
"""


def test_hostile_names_and_reasons_are_shown_as_text_and_run_nothing(
    browser: webdriver.Chrome, tmp_path: Path, database_url: str
) -> None:
    with api_server(tmp_path, database_url) as serve:
        seed(database_url)
        base = serve(TICKWIRE_ALLOW_ANONYMOUS="true")
        # Defence in depth: were a name ever parsed as markup, the page's policy still runs
        # only the server's own script files.
        policy = httpx.get(f"{base}/dashboard").headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy
        browser.get(f"{base}/dashboard#provider={PLAIN[0]}&instrument={PLAIN[1]}")

        def settled(d: webdriver.Chrome) -> dict[str, Any] | None:
            shown: dict[str, Any] = d.execute_script(PROBE)
            complete = shown["chart"] == "ready" and shown["tooltip"] and shown["details"]
            return shown if complete and shown["jobs"] and shown["services"] else None

        shown = wait(browser, settled, "every panel drawn with the hostile text", timeout=30)

    assert shown["injected"] is None
    assert (shown["images"], shown["inlineScripts"], shown["handlers"]) == (0, 0, [])
    assert f"{IMG} ({SCRIPT})" in shown["options"]
    (feed,) = [row for row in shown["feeds"] if row[1:3] == [SCRIPT, IMG]]
    assert f" ({SCRIPT} at " in feed[-1], feed  # the last gap's reason
    (service,) = shown["services"]
    assert service[1:3] == [IMG, SCRIPT] and service[-1].endswith(f" {SVG}"), service
    (job,) = shown["jobs"]
    assert job[1] == SCRIPT and job[-1] == ATTRIBUTE, job
    assert shown["markerTitle"].startswith(f"{SVG} ({ATTRIBUTE}): 9")
    assert shown["markerSeverity"] == ATTRIBUTE
    assert shown["tooltip"][0] == f"{SVG} ({ATTRIBUTE})" and shown["tooltip"][-1] == IMG
    assert f"{IMG} ({SCRIPT})" in shown["calendar"]
    assert shown["dayTitle"].startswith(f"{IMG} ({SCRIPT}) ")
    assert shown["details"][0].startswith(f"{IMG} ({SCRIPT}), ")
    assert any(f"{IMG} 1 (30 s)" in text for text in shown["details"]), shown["details"]
    assert any(f"{SCRIPT} 2" in text for text in shown["details"]), shown["details"]

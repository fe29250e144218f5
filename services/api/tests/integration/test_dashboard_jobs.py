"""The dashboard's job table in a real browser (headless Chromium), against the API as its own
process on a real TimescaleDB: each job's last run as job_runs holds it, and runs logged later
appear at the next refresh."""

from typing import Any

import psycopg
import pytest
from selenium import webdriver

from tickwire_testing.browser import api_server, wait

pytestmark = pytest.mark.integration

# What the job table shows, read in one go (a refresh between two reads would mix two drawings).
JOB_ROWS = """
return [...document.querySelectorAll("#jobs tbody tr")].map((tr) => ({
  ...tr.dataset,
  badge: tr.querySelector(".badge") && tr.querySelector(".badge").className,
  cells: [...tr.cells].map((td) => td.textContent),
}));
"""


def shown(browser: webdriver.Chrome, count: int) -> list[dict[str, Any]]:
    """The job table, once it shows `count` runs."""

    def ready(d: webdriver.Chrome) -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = d.execute_script(JOB_ROWS)
        drawn = rows and len([r for r in rows if "job" in r]) == count  # an empty row is drawn
        return rows if drawn else None

    return wait(browser, ready, f"{count} runs in the job table", timeout=30)


def test_the_job_table_shows_each_jobs_last_run(browser, tmp_path, database_url) -> None:
    with api_server(tmp_path, database_url) as serve:
        base = serve(TICKWIRE_ALLOW_ANONYMOUS="true")
        browser.get(f"{base}/dashboard")
        [empty] = shown(browser, 0)
        assert empty["cells"] == ["No batch job has run yet."]
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO job_runs (job, arguments, host, started_at, finished_at, status,"
                " rows, error) VALUES"
                " ('backfill', '{}', 'h1', '2024-05-01 02:30Z', '2024-05-01 02:41Z', 'failed',"
                "  NULL, 'superseded'),"
                " ('backfill', '{}', 'h2', '2024-05-02 02:30:00Z', '2024-05-02 02:41:06Z',"
                "  'succeeded', 182400, NULL),"
                " ('quality', '{}', 'h3', '2024-05-02 04:00Z', '2024-05-02 04:00:30Z', 'failed',"
                "  NULL, 'no ticks stored for 2024-05-01'),"
                " ('lake-export', '{}', 'h4', now() - interval '10 minutes', NULL, 'running',"
                "  NULL, NULL)"
            )
        rows = shown(browser, 3)  # the next refresh, within 5 s
    by_job = {r["job"]: r for r in rows}
    assert list(by_job) == ["backfill", "lake-export", "quality"]
    backfill, export, quality = by_job["backfill"], by_job["lake-export"], by_job["quality"]
    assert (backfill["status"], backfill["badge"]) == ("succeeded", "badge alive")
    assert backfill["cells"][:3] == ["succeeded", "backfill", "05-02 02:30:00"]
    assert backfill["cells"][4:] == ["11 min", "182.4k", "-"]
    assert (quality["status"], quality["badge"]) == ("failed", "badge stale")
    assert quality["cells"][4:] == ["30.0 s", "-", "no ticks stored for 2024-05-01"]
    assert (export["status"], export["badge"]) == ("running", "badge running")
    assert export["cells"][3] == "10 min"  # since it started, as it has not finished

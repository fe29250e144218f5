"""`tickwire backfill` of FINRA short-sale data end to end: Reg SHO daily files (a holiday's 403,
a malformed row) and consolidated short interest (a row without a position), from a local server
answering with the fixture files, through normalize and the sink to the API."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tickwire_testing import vendors
from tickwire_testing.history import HistoryPipeline

pytestmark = pytest.mark.e2e

COUNTS = ("fetched", "published", "stored", "already_present", "rejected", "pending")
# FINRA's spellings as Yahoo writes them (docs/history.md): class shares, preferreds.
YAHOO_NAMES = {"BRK/B": "BRK-B", "ABRpD": "ABR-PD"}
DAILY_FILES = ["CNMSshvol20231229.txt", "CNMSshvol20240102.txt", "CNMSshvol20240103.txt"]
SV_RANGE = ["--since", "2023-12-29", "--until", "2024-01-04"]
SI_RANGE = ["--since", "2024-01-01", "--until", "2024-02-01"]
SI_PAGES = {
    ("2024-01-01", "2024-01-16"): [
        "short_interest_2024-01-01_page1.json",
        "short_interest_2024-01-01_page2.json",
    ],
    ("2024-01-16", "2024-02-01"): ["short_interest_2024-01-16.json"],
}


def counts(line: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(line[k] for k in COUNTS)


def file_rows(name: str) -> list[dict[str, str]]:
    """A daily file's rows keyed by its header, without the trailing record count."""
    lines = vendors.text(f"finra/{name}").splitlines()
    assert int(lines[-1]) == len(lines) - 2
    return list(csv.DictReader(lines[:-1], delimiter="|"))


def served_all(history: HistoryPipeline, path: str, key: str, **params: str) -> list[Any]:
    rows, cursor = [], None
    while True:
        page = history.get(path, cursor=cursor, limit="2", **params)  # small pages: paging too
        rows += page[key]
        cursor = page["next_cursor"]
        if cursor is None:
            return rows


def test_daily_short_volume_is_served_and_the_bad_row_is_a_dead_letter(
    history: HistoryPipeline, httpserver: HTTPServer
) -> None:
    for name in DAILY_FILES:
        vendors.finra_daily_file(httpserver, name)
    vendors.finra_no_file(httpserver, "CNMSshvol20240101.txt")  # New Year's Day
    rows = [row for name in DAILY_FILES for row in file_rows(name)]
    bad = [row for row in rows if row["ShortVolume"] == "n/a"]
    expected = sorted(
        (
            date(int(r["Date"][:4]), int(r["Date"][4:6]), int(r["Date"][6:])).isoformat(),
            YAHOO_NAMES.get(r["Symbol"], r["Symbol"]),
            "CNMS",
            float(r["ShortVolume"]),
            float(r["ShortExemptVolume"]),
            float(r["TotalVolume"]),
            float(r["ShortVolume"]) / float(r["TotalVolume"]),
            r["Market"],
        )
        for r in rows
        if r not in bad
    )
    backfill = history.backfill(httpserver.url_for("/"), "finra-short-volume")

    [line] = backfill.json_lines("backfill", "finra-short-volume", *SV_RANGE)
    n = len(rows)
    assert (line["instrument"], line["status"]) == ("*", "done")
    assert counts(line) == (n, n, n - len(bad), 0, {"undecodable_payload": len(bad)}, 0)
    served = [
        (s["trade_date"], s["instrument"], s["facility"], s["short_volume"],
         s["short_exempt_volume"], s["total_volume"], s["short_volume_ratio"], s["market"])
        for s in served_all(history, "/v1/short-volume", "short_volume", provider="finra")
    ]  # fmt: skip
    assert served == expected
    [(reason, payload)] = history.rejects("finra")
    assert reason == "undecodable_payload"
    assert payload == {**bad[0], "_file": "CNMSshvol20240103.txt"}

    asked = len(httpserver.log)
    [again] = backfill.json_lines("backfill", "finra-short-volume", *SV_RANGE)
    assert (again["status"], again["published"], len(httpserver.log)) == ("up to date", 0, asked)

    [restarted] = backfill.json_lines("backfill", "finra-short-volume", *SV_RANGE, "--restart")
    assert counts(restarted) == (n, n, 0, n - len(bad), {"undecodable_payload": len(bad)}, 0)
    assert len(served_all(history, "/v1/short-volume", "short_volume")) == len(expected)
    assert len(history.rejects("finra")) == 2  # the bad row, dead-lettered again on --restart


def test_short_interest_is_served_and_a_row_without_a_position_is_a_dead_letter(
    history: HistoryPipeline, httpserver: HTTPServer
) -> None:
    for (first, end), names in SI_PAGES.items():
        vendors.finra_short_interest(httpserver, first, end, names)
    rows = [row for names in SI_PAGES.values() for name in names for row in vendors.data(
        f"finra/{name}")]  # fmt: skip
    bad = [row for row in rows if row["currentShortPositionQuantity"] is None]
    expected = sorted(
        (r["settlementDate"], r["symbolCode"], float(r["currentShortPositionQuantity"]),
         float(r["previousShortPositionQuantity"]), float(r["averageDailyVolumeQuantity"]),
         r["daysToCoverQuantity"], r["marketClassCode"])
        for r in rows
        if r not in bad
    )  # fmt: skip
    backfill = history.backfill(httpserver.url_for("/"), "finra-short-interest")

    [line] = backfill.json_lines("backfill", "finra-short-interest", *SI_RANGE)
    n = len(rows)
    assert counts(line) == (n, n, n - len(bad), 0, {"missing_value": len(bad)}, 0)
    served = [
        (s["settlement_date"], s["instrument"], s["short_interest"], s["previous_short_interest"],
         s["average_daily_volume"], s["days_to_cover"], s["market"])
        for s in served_all(history, "/v1/short-interest", "short_interest")
    ]  # fmt: skip
    assert served == expected
    dead = [payload for reason, payload in history.rejects("finra") if reason == "missing_value"]
    assert dead == bad

    [again] = backfill.json_lines("backfill", "finra-short-interest", *SI_RANGE)
    assert (again["status"], again["published"]) == ("up to date", 0)
    coverage = {
        (e["instrument"], c["dataset"]): (c["first_day"], c["last_day"], c["rows"])
        for e in history.get("/v1/instruments")["backfilled"]
        for c in e["coverage"]
    }
    assert coverage[("AAPL", "short_interest")] == ("2024-01-12", "2024-01-31", 2)
    assert coverage[("AAPL", "short_volume")] == ("2023-12-29", "2024-01-03", 3)

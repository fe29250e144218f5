"""Counting a backfill's outcome against the real database: target rows there before a page was
published are `already present`, rows that appear later are `stored`, dead letters naming a
published record's position are `rejected` by reason, the rest `pending` until they arrive.
The test writes what the sink would (the whole pipeline is the end-to-end suite's)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tickwire_cli.settlement import Settlement
from tickwire_core.errors import RejectedRecord
from tickwire_ingest.domain.history.pages import VendorRow
from tickwire_ingest.domain.history.plan import Step

pytestmark = pytest.mark.integration

DAY_US = 86_400_000_000
D0 = 19_723  # 2024-01-01, days since the epoch
STEP = Step("fake", "ohlcv:1d", "aaa", D0 * DAY_US, (D0 + 5) * DAY_US, None)
SV_STEP = Step("fake-sv", "regsho", "*", D0 * DAY_US, (D0 + 1) * DAY_US, None)


def row(day: int, provider: str = "fake", feed: str = "ohlcv:1d") -> VendorRow:
    return VendorRow(provider, feed, "aaa", json.dumps({"day": day}).encode(), day * DAY_US)


def mapper(vendor_row: VendorRow, received_ts: int) -> list[tuple[str, dict[str, Any]]]:
    """Stands for a vendor's history mapping: day D0+3 is refused here already."""
    day = json.loads(vendor_row.payload)["day"]
    if day == D0 + 3:
        raise RejectedRecord("bar_not_finite", "close is NaN")
    if vendor_row.feed == "regsho":
        return [("short_volume", {"provider": "finra", "instrument": "AAA",
                                  "facility": "N", "trade_date": day})]  # fmt: skip
    return [("bar", {"provider": "fake", "instrument": "AAA-USD", "interval": "1d",
                     "source": "fake", "start_ts": day * DAY_US})]  # fmt: skip


def store_bar(conn: psycopg.Connection[Any], day: int) -> None:
    start = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=day)
    conn.execute(
        "INSERT INTO bars (provider, instrument, interval, start_ts, open, high, low, close,"
        " volume, tick_count, source) VALUES ('fake', 'AAA-USD', '1d', %s, 1, 1, 1, 1, 1, 0,"
        " 'fake')",
        (start,),
    )


def store_reject(conn: psycopg.Connection[Any], offset: int, reason: str) -> None:
    conn.execute(
        "INSERT INTO rejects (reason, message, service, source_topic, source_partition,"
        " source_offset, payload, rejected_ts) VALUES (%s, '', 'normalize', 'raw', 0, %s, '',"
        " now())",
        (reason, offset),
    )


def test_each_record_is_counted_once_the_pipeline_has_dealt_with_it(migrated: str) -> None:
    with psycopg.connect(migrated, autocommit=True) as conn:
        store_bar(conn, D0)  # there before the run
        settlement = Settlement(conn, mapper)
        rows = [row(D0 + d) for d in range(5)]
        settlement.before_page(STEP, rows, received_ts=1)
        store_bar(conn, D0 + 9)  # not the run's: never counted
        settlement.after_page(STEP, rows, [("raw", 0, 10 + d) for d in range(5)])
        sv = [row(D0, "fake-sv", "regsho")]
        settlement.before_page(SV_STEP, sv, received_ts=2)
        settlement.after_page(SV_STEP, sv, [("raw", 1, 0)])

        # The pipeline stores day 1, dead-letters day 2; days 3 and 4 are not dealt with yet.
        store_bar(conn, D0 + 1)
        store_reject(conn, 12, "bar_off_grid")
        fetched = {STEP: 5, SV_STEP: 1}
        early = settlement.wait(fetched, timeout_s=0.3, poll_s=0.1)
        assert early[STEP].as_dict() == {
            "fetched": 5, "published": 5, "stored": 1, "already_present": 1, "repeated": 0,
            "rejected": {"bar_off_grid": 1}, "pending": 2,
        }  # fmt: skip
        assert early[SV_STEP].pending == 1

        store_reject(conn, 13, "bar_not_finite")
        store_bar(conn, D0 + 4)
        conn.execute(
            "INSERT INTO short_volume (provider, instrument, facility, trade_date, short_volume,"
            " total_volume, received_ts) VALUES ('finra', 'AAA', 'N', %s, 1, 2, now())",
            (date(2024, 1, 1),),
        )
        settled = settlement.wait(fetched, timeout_s=5, poll_s=0.1)
        assert settled[STEP].as_dict() == {
            "fetched": 5, "published": 5, "stored": 2, "already_present": 1, "repeated": 0,
            "rejected": {"bar_not_finite": 1, "bar_off_grid": 1}, "pending": 0,
        }  # fmt: skip
        assert (settled[SV_STEP].stored, settled[SV_STEP].pending) == (1, 0)

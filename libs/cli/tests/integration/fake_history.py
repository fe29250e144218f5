"""`tickwire` with one more history source, `fake`: daily bars made up in Python, two days a
page, optionally slow (FAKE_HISTORY_PAGE_S seconds a page), so the backfill tests run the real
command against the real broker and database without a vendor."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator

from tickwire_ingest.adapters.history import sources
from tickwire_ingest.domain.history.pages import Page, Request, UnknownInstrument, VendorRow
from tickwire_ingest.history_settings import HistorySettings

DAY_US = 86_400_000_000
UNKNOWN = "NOPE"


def fake_row(instrument: str, day: int) -> VendorRow:
    payload = {"ts": day * DAY_US // 1000, "close": 100 + day % 7, "instrument": instrument}
    return VendorRow("fake", "ohlcv:1d", instrument, json.dumps(payload).encode(), day * DAY_US)


class FakeHistory:
    name = "fake"
    grouped = False

    def __init__(self, page_s: float) -> None:
        self.page_s = page_s

    def datasets(self) -> list[str]:
        return ["ohlcv:1d"]

    def fetch(self, request: Request) -> Iterator[Page]:
        if request.instrument == UNKNOWN:
            raise UnknownInstrument(f"fake: no instrument {UNKNOWN}")
        day = -(-request.since // DAY_US)  # the first whole day at or after since
        last = -(-request.until // DAY_US)
        while day < last:
            time.sleep(self.page_s)
            end = min(day + 2, last)
            rows = [fake_row(request.instrument, d) for d in range(day, end)]
            yield Page(rows, min(end * DAY_US, request.until))
            day = end


def _fake(settings: HistorySettings) -> FakeHistory:
    return FakeHistory(float(os.environ.get("FAKE_HISTORY_PAGE_S", "0")))


if __name__ == "__main__":
    sources.SOURCES["fake"] = _fake
    from tickwire_cli.__main__ import main

    raise SystemExit(main(sys.argv[1:]))

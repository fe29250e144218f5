"""The backfill driver with fakes: each page's rows become raw records (history=True, the
backfill's ingest instance, the fetch time), the watermark moves only once a page is
acknowledged, a stop ends after the page in hand, and a failing instrument is reported."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tickwire_core.publisher import Publisher
from tickwire_core.serde import AvroSerde
from tickwire_ingest.backfill import Backfill, HistorySink
from tickwire_ingest.domain.history.pages import Page, Request, UnknownInstrument, VendorRow
from tickwire_ingest.domain.history.plan import Step
from tickwire_testing.fakes import FakeProducer

DAY = 86_400_000_000


def row(day: int, instrument: str = "AAPL") -> VendorRow:
    return VendorRow("fake", "ohlcv:1d", instrument, f'{{"day":{day}}}'.encode(), day * DAY)


@dataclass
class FakeSource:
    """Pages of two days each over the request's range; `unknown` names what it does not know."""

    name: str = "fake"
    grouped: bool = False
    unknown: set[str] = field(default_factory=set)
    requests: list[Request] = field(default_factory=list)
    on_page: Any = None

    def datasets(self) -> list[str]:
        return ["ohlcv:1d"]

    def fetch(self, request: Request) -> Iterator[Page]:
        self.requests.append(request)
        if request.instrument in self.unknown:
            raise UnknownInstrument(f"fake does not know {request.instrument}")
        day = request.since // DAY
        while day * DAY < request.until:
            end = min(day + 2, request.until // DAY)
            if self.on_page is not None:  # e.g. a SIGTERM while the page is fetched
                self.on_page()
            yield Page([row(d, request.instrument) for d in range(day, end)], end * DAY)
            day = end


@dataclass
class FakeStore:
    marks: dict[tuple[str, str, str], int] = field(default_factory=dict)
    runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def start_run(self, step: Step) -> int:
        self.runs[len(self.runs) + 1] = {"status": "running"}
        return len(self.runs)

    def advance(self, step: Step, covered_until: int) -> None:
        self.log.append(f"watermark {covered_until // DAY}")
        self.marks[(step.source, step.dataset, step.instrument)] = covered_until

    def progress(self, run_id: int, pages: int, fetched: int, published: int) -> None:
        self.runs[run_id].update(pages=pages, fetched=fetched, published=published)

    def finish(self, run_id: int, status: str, error: str | None = None) -> None:
        self.runs[run_id].update(status=status, error=error)


class LoggingProducer(FakeProducer):
    """Writes into the store's log when a flush acknowledges records, to check the order."""

    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log

    def flush(self, timeout: float = 0) -> int:
        if self._callbacks:
            self.log.append(f"flushed {len(self._callbacks)}")
        return super().flush(timeout)


def step(instrument: str = "AAPL", since: int = 0, until: int = 5) -> Step:
    return Step("fake", "ohlcv:1d", instrument, since * DAY, until * DAY, None)


def driver(source: FakeSource, store: FakeStore, producer: FakeProducer, stop=None) -> Backfill:  # type: ignore[no-untyped-def]
    ticks = iter(range(1_000_000, 2_000_000))
    sink = HistorySink(Publisher(producer, AvroSerde()), "p.tickwire.ticks.raw")
    return Backfill(source, sink, store, stop or threading.Event(), clock=lambda: next(ticks))  # type: ignore[arg-type]


def test_rows_are_published_as_history_and_the_watermark_follows_each_flush() -> None:
    store = FakeStore()
    producer = LoggingProducer(store.log)
    outcome = driver(FakeSource(), store, producer).run(step())
    assert (outcome.status, outcome.pages, outcome.published, outcome.watermark) == (
        "done", 3, 5, 5 * DAY,
    )  # fmt: skip
    assert store.log == [
        "flushed 2", "watermark 2", "flushed 2", "watermark 4", "flushed 1", "watermark 5",
    ]  # fmt: skip
    records = [AvroSerde().decode("raw_tick", value) for _, _, value in producer.sent]
    assert {(r["history"], r["ingest_instance"], r["provider"]) for r in records} == {
        (True, "backfill", "fake")
    }
    assert [r["payload"] for r in records] == [f'{{"day":{d}}}'.encode() for d in range(5)]
    # received_ts is the fetch time of the record's page.
    assert [r["received_ts"] for r in records] == [1_000_000] * 2 + [1_000_001] * 2 + [1_000_002]
    assert {key for _, key, _ in producer.sent} == {b"fake|AAPL"}
    assert store.runs[1] == {
        "status": "done", "error": None, "pages": 3, "fetched": 5, "published": 5,
    }  # fmt: skip


def test_a_failed_delivery_leaves_the_watermark_where_it_was() -> None:
    store = FakeStore()
    producer = FakeProducer(fail_with="broker gone")
    outcome = driver(FakeSource(), store, producer).run(step())
    assert outcome.status == "failed" and "broker gone" in (outcome.error or "")
    assert store.marks == {} and store.runs[1]["status"] == "failed"


def test_a_stop_ends_the_run_after_the_page_in_hand() -> None:
    store = FakeStore()
    stop = threading.Event()
    source = FakeSource(on_page=stop.set)
    outcome = driver(source, store, FakeProducer(), stop).run(step())
    assert (outcome.status, outcome.pages, outcome.watermark) == ("interrupted", 1, 2 * DAY)
    assert store.runs[1]["status"] == "interrupted"


def test_an_unknown_instrument_fails_alone() -> None:
    store = FakeStore()
    backfill = driver(FakeSource(unknown={"NOPE"}), store, FakeProducer())
    bad = backfill.run(step("NOPE"))
    good = backfill.run(step("AAPL"))
    assert (bad.status, bad.error) == ("failed", "fake does not know NOPE")
    assert good.status == "done" and good.published == 5


def test_an_up_to_date_step_fetches_nothing_and_logs_no_run() -> None:
    store = FakeStore()
    source = FakeSource()
    outcome = driver(source, store, FakeProducer()).run(step(since=5, until=5))
    assert outcome.status == "done" and source.requests == [] and store.runs == {}


def test_an_empty_range_is_done_with_no_rows() -> None:
    @dataclass
    class Quiet(FakeSource):
        def fetch(self, request: Request) -> Iterator[Page]:
            yield Page([], request.until)

    store = FakeStore()
    outcome = driver(Quiet(), store, FakeProducer()).run(step())
    assert outcome.empty and outcome.watermark == 5 * DAY

"""The backfill driver: each page of a history source onto the raw topic as history records,
acknowledged by the broker before the watermark moves, so a killed run loses nothing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tickwire_core.clock import now_us
from tickwire_core.errors import DeliveryError
from tickwire_core.publisher import Publisher
from tickwire_core.topics import tick_key
from tickwire_ingest.adapters.history.store import (
    DONE,
    FAILED,
    INTERRUPTED,
    RUNNING,
    BackfillStore,
)
from tickwire_ingest.domain.history.pages import (
    HistorySource,
    Page,
    Request,
    SourceUnavailable,
    UnknownInstrument,
    VendorRow,
)
from tickwire_ingest.domain.history.plan import Step
from tickwire_ingest.domain.history.tally import Position
from tickwire_ingest.domain.raw import Envelope

logger = logging.getLogger(__name__)

INGEST_INSTANCE = "backfill"


class HistorySink:
    """Raw records onto the raw topic through the (idempotent) publisher; `publish_page` returns
    once the broker has acknowledged every row, with where each landed."""

    def __init__(self, publisher: Publisher, topic: str, flush_timeout_s: float = 60.0) -> None:
        self.publisher = publisher
        self.topic = topic
        self.flush_timeout_s = flush_timeout_s
        self.envelope = Envelope("backfill", INGEST_INSTANCE)

    def publish_page(self, rows: Sequence[VendorRow], received_ts: int) -> list[Position]:
        positions: list[Position | None] = [None] * len(rows)

        def landed(index: int) -> Callable[[int, int], None]:
            def at(partition: int, offset: int) -> None:
                positions[index] = (self.topic, partition, offset)

            return at

        for index, row in enumerate(rows):
            record = self.envelope.wrap(
                row.feed,
                row.instrument,
                row.payload,
                received_ts,
                provider=row.provider,
                content_type=row.content_type,
                history=True,
            )
            value = self.publisher.serde.encode("raw_tick", record)
            key = tick_key(row.provider, row.instrument)
            self.publisher.send_bytes(self.topic, key, value, on_delivered=landed(index))
        self.publisher.flush(self.flush_timeout_s)  # raises unless every row is acknowledged
        return [p for p in positions if p is not None]


class Watch(Protocol):
    """What else hears of each page (the settlement count): before it is published, with the
    fetch time, and after, with where each row landed."""

    def before_page(self, step: Step, rows: Sequence[VendorRow], received_ts: int) -> None: ...

    def after_page(
        self, step: Step, rows: Sequence[VendorRow], positions: list[Position]
    ) -> None: ...


@dataclass
class Outcome:
    step: Step
    run_id: int | None = None
    status: str = RUNNING
    pages: int = 0
    fetched: int = 0
    published: int = 0
    watermark: int | None = None  # after this run
    error: str | None = None

    @property
    def empty(self) -> bool:
        """Done without a single row: the vendor has nothing in the range (or it was done)."""
        return self.status == DONE and self.fetched == 0


class Backfill:
    def __init__(
        self,
        source: HistorySource,
        sink: HistorySink,
        store: BackfillStore,
        stop: threading.Event,
        *,
        clock: Callable[[], int] = now_us,
        watch: Watch | None = None,
        on_page: Callable[[Outcome, Page], None] | None = None,
    ) -> None:
        self.source = source
        self.sink = sink
        self.store = store
        self.stop = stop
        self.clock = clock
        self.watch = watch
        self.on_page = on_page

    def run(self, step: Step) -> Outcome:
        outcome = Outcome(step, watermark=step.watermark)
        if step.up_to_date:
            outcome.status = DONE
            return outcome
        run_id = outcome.run_id = self.store.start_run(step)
        try:
            self._pages(step, outcome, run_id)
            outcome.status = INTERRUPTED if self.stop.is_set() else DONE
        except (UnknownInstrument, SourceUnavailable, DeliveryError) as exc:
            outcome.status, outcome.error = FAILED, str(exc)
        except Exception as exc:  # a source's own bug must not take the other instruments down
            logger.exception("backfill %s %s failed", step.source, step.instrument)
            outcome.status, outcome.error = FAILED, f"{type(exc).__name__}: {exc}"
        finally:
            if outcome.status == RUNNING:  # KeyboardInterrupt and the like: on the way out
                outcome.status = INTERRUPTED
            self.store.finish(run_id, outcome.status, outcome.error)
        return outcome

    def _pages(self, step: Step, outcome: Outcome, run_id: int) -> None:
        request = Request(step.instrument, step.dataset, step.since, step.until)
        for page in self.source.fetch(request):
            received_ts = self.clock()
            rows = page.rows  # as the vendor sent them: a malformed row is normalize's to judge
            if self.watch is not None:
                self.watch.before_page(step, rows, received_ts)
            positions = self.sink.publish_page(rows, received_ts) if rows else []
            if self.watch is not None:
                self.watch.after_page(step, rows, positions)
            outcome.pages += 1
            outcome.fetched += len(page.rows)
            outcome.published += len(rows)
            # Only now, with every row of the page acknowledged: what the watermark passes is
            # on the topic.
            covered = min(page.covered_until, step.until)
            if covered > (outcome.watermark or 0):
                self.store.advance(step, covered)
                outcome.watermark = covered
            self.store.progress(run_id, outcome.pages, outcome.fetched, outcome.published)
            if self.on_page is not None:
                self.on_page(outcome, page)
            if self.stop.is_set():
                return

"""The contract between a history source (an adapter around one vendor) and the backfill that
drives it: a Request for one instrument's dataset over [since, until), answered by Pages of
VendorRows in time order. The backfill publishes each page's rows as raw records (history=True)
and only then moves the watermark to the page's `covered_until`, so a run killed at any moment
resumes without a hole; rows published twice are stored once (natural keys)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from tickwire_core.errors import TickwireError


@dataclass(frozen=True)
class VendorRow:
    """One row as the vendor sent it, with the envelope fields the raw record needs."""

    provider: str  # the raw record's provider: yahoo, coingecko, binance, ..., finra
    feed: str  # the dataset: ohlcv:1d, trades, regsho, short_interest
    instrument: str  # the vendor's own name of the instrument (ticker, coin id, market id)
    payload: bytes  # the row, unchanged in content (JSON unless content_type says otherwise)
    ts: int  # the row's time (bar start, trade time, trade or settlement date), UTC µs
    content_type: str = "application/json"


@dataclass(frozen=True)
class Page:
    """Rows of one vendor response, and the time up to which (exclusive) the dataset is now
    fetched completely: the watermark after this page. A page may have no rows (a quiet stretch,
    a holiday) and still move the watermark."""

    rows: list[VendorRow]
    covered_until: int


@dataclass(frozen=True)
class Request:
    instrument: str  # as the user named it on the command line
    dataset: str  # a feed name the source serves
    since: int  # UTC µs, inclusive
    until: int  # UTC µs, exclusive; never later than what the vendor can have complete


class HistorySource(Protocol):
    """One vendor's history. `fetch` yields pages in time order and raises UnknownInstrument for
    a name the vendor does not know; transient failures are retried inside (capped backoff with
    jitter) and raise SourceUnavailable once the retries are spent."""

    name: str  # the command line's SOURCE

    def datasets(self) -> list[str]: ...

    def fetch(self, request: Request) -> Iterator[Page]: ...


class UnknownInstrument(TickwireError):
    """The vendor does not know this instrument (the message says which and where)."""


class SourceUnavailable(TickwireError):
    """The vendor kept failing after every retry, or answered in a shape the source cannot read."""

"""Yahoo's chart windows: which bars a backfill can ask Yahoo for (intraday only recently) and
how [since, until) splits into requests; plus when a bar is complete. Pure arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tickwire_ingest.domain.history.pages import SourceUnavailable

MINUTE_US = 60_000_000
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US

# The day from which a daily backfill asks for everything Yahoo has (yfinance's period="max"):
# older than any series Yahoo keeps, so a first run without --since loads the full history.
DAILY_EARLIEST = int(datetime(1900, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000

# A first intraday run starts this much inside Yahoo's window, so that the plan made now is
# still inside it when a long run reaches its last instrument.
_EARLIEST_SLACK_US = DAY_US


@dataclass(frozen=True)
class Interval:
    """One dataset: the yfinance interval, the bar length, how far back Yahoo serves it (None:
    the whole history) and at most how much one request may span (None: no limit)."""

    dataset: str
    name: str
    length_us: int
    lookback_us: int | None
    max_span_us: int | None

    @property
    def daily(self) -> bool:
        return self.length_us == DAY_US


# Yahoo's limits, as its chart API states them in its refusals ("1m data not available for
# startTime=... The requested range must be within the last 30 days", "Only 7 days worth of 1m
# granularity data are allowed to be fetched per request", 60 days for 2m..90m, 730 days for
# 1h) and as yfinance 1.7 encodes them for period="max" (8 days of 1m, 60 of 5m, 730 of 1h).
# 1m requests span 7 days: the older, smaller of the two per-request limits Yahoo has stated.
INTERVALS: dict[str, Interval] = {
    i.dataset: i
    for i in (
        Interval("ohlcv:1d", "1d", DAY_US, None, None),
        Interval("ohlcv:1h", "1h", HOUR_US, 730 * DAY_US, 730 * DAY_US),
        Interval("ohlcv:5m", "5m", 5 * MINUTE_US, 60 * DAY_US, 60 * DAY_US),
        Interval("ohlcv:1m", "1m", MINUTE_US, 30 * DAY_US, 7 * DAY_US),
    )
}


class RangeNotServed(SourceUnavailable):
    """The range asked for is outside what Yahoo serves for the dataset (intraday bars only
    for the last days); the message names the window and where a backfill can start."""


def interval_of(dataset: str) -> Interval:
    found = INTERVALS.get(dataset)
    if found is None:
        raise ValueError(f"yahoo serves {', '.join(INTERVALS)}, not {dataset!r}")
    return found


def earliest(dataset: str, now: int) -> int:
    """Where a first run starts without --since: the whole daily history, or the start of
    Yahoo's intraday window (a day inside it), on the bar grid."""
    interval = interval_of(dataset)
    if interval.lookback_us is None:
        return DAILY_EARLIEST
    start = now - interval.lookback_us + _EARLIEST_SLACK_US
    return _ceil(start, interval.length_us)


def windows(dataset: str, since: int, until: int, now: int) -> list[tuple[int, int]]:
    """The requests for [since, until), in time order, each within Yahoo's per-request span.
    An empty range gives no request. RangeNotServed if the range starts before the intraday
    window Yahoo keeps (it would refuse, and the part before can never be fetched)."""
    interval = interval_of(dataset)
    end = min(until, now)
    if since >= end:
        return []
    if interval.lookback_us is not None and since < now - interval.lookback_us:
        first = _ceil(now - interval.lookback_us + _EARLIEST_SLACK_US, interval.length_us)
        raise RangeNotServed(
            f"yahoo serves {dataset} for the last {interval.lookback_us // DAY_US} days only; "
            f"asked from {_shown(since)}: start at or after {_shown(first)} (--since)"
        )
    if interval.max_span_us is None:
        return [(since, end)]
    spans = []
    start = since
    while start < end:
        stop = min(start + interval.max_span_us, end)
        spans.append((start, stop))
        start = stop
    return spans


def complete_until(dataset: str, now: int) -> int:
    """Bars starting before this have closed by `now`: a bar is published only once its
    interval has ended (a daily bar is stamped 00:00 UTC of its trading day, so it is complete
    at the next 00:00 UTC, after the close of every exchange Yahoo lists for that date)."""
    length = interval_of(dataset).length_us
    return now - length + 1


def daily_bounds(since: int, until: int) -> tuple[str, str]:
    """The trading dates (YYYY-MM-DD, exclusive end) whose bars, stamped 00:00 UTC of the
    date, fall in [since, until): yfinance reads dates as midnights of the exchange."""
    return _date(_ceil(since, DAY_US)), _date(_ceil(until, DAY_US))


def _ceil(value: int, step: int) -> int:
    return -(-value // step) * step


def _date(us: int) -> str:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC).date().isoformat()


def _shown(us: int) -> str:
    return datetime.fromtimestamp(us // 1_000_000, tz=UTC).isoformat().replace("+00:00", "Z")

"""Yahoo equities OHLCV history through yfinance: daily bars over the whole history, 1h/5m/1m
within Yahoo's windows, each bar one raw row (the yfinance row as JSON, stamped `ts`)."""

from __future__ import annotations

import json
import logging
import math
import numbers
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import yfinance as yf  # type: ignore[import-untyped]
from yfinance.exceptions import (  # type: ignore[import-untyped]
    YFPricesMissingError,
    YFRateLimitError,
    YFTzMissingError,
)

from tickwire_core.clock import now_us
from tickwire_ingest.adapters.history.http import RetryPolicy, retrying
from tickwire_ingest.adapters.history.yahoo_session import (
    ChartNotFound,
    TransientChartError,
    YahooSession,
)
from tickwire_ingest.domain.history import yahoo
from tickwire_ingest.domain.history.pages import (
    Page,
    Request,
    SourceUnavailable,
    UnknownInstrument,
    VendorRow,
)

logger = logging.getLogger(__name__)

PROVIDER = "yahoo"
COLUMNS = ("Open", "High", "Low", "Close", "Adj Close", "Volume")


class YahooSource:
    """HistorySource for Yahoo. Prices as Yahoo publishes them (auto_adjust=False): Open, High,
    Low and Close adjusted for splits only, `Adj Close` for splits and dividends.
    A row's `ts` is the bar's start in epoch ms UTC; a daily bar starts at 00:00 UTC of its
    trading date (the exchange's calendar date), so daily bars of every exchange share a grid.

    `base_url` None is Yahoo itself; a test passes its local server (see YahooSession).
    `cache_dir` is where yfinance keeps its ticker-timezone and cookie caches (None: its own
    folder under the user's cache directory)."""

    name = "yahoo"
    grouped = False

    def __init__(
        self,
        base_url: str | None = None,
        policy: RetryPolicy | None = None,
        *,
        clock: Callable[[], int] = now_us,
        cache_dir: str | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.retries = 0  # transient failures seen, for the run's report
        self._clock = clock
        self._last_request_at = 0.0  # monotonic time of the last chart request
        # yfinance logs its errors and returns an empty frame unless told to raise (the
        # history(raise_errors=) argument is deprecated in favour of this switch). Raising is
        # how an unknown ticker is told apart from an empty range.
        yf.config.debug.hide_exceptions = False
        if cache_dir is not None:
            yf.set_tz_cache_location(cache_dir)
        self._session = YahooSession(base_url)

    def close(self) -> None:
        self._session.close()

    def datasets(self) -> list[str]:
        return list(yahoo.INTERVALS)

    def earliest(self, dataset: str) -> int:
        return yahoo.earliest(dataset, self._clock())

    def fetch(self, request: Request) -> Iterator[Page]:
        interval = yahoo.interval_of(request.dataset)
        ticker = request.instrument.strip().upper()
        if not ticker:
            raise UnknownInstrument("yahoo: an empty ticker")
        now = self._clock()
        complete = yahoo.complete_until(request.dataset, now)
        for start, stop in yahoo.windows(request.dataset, request.since, request.until, now):
            frame = self._history(ticker, interval, start, stop)
            rows = [
                row
                for row in _rows(frame, ticker, interval)
                if start <= row.ts < stop and row.ts < complete
            ]
            yield Page(rows, covered_until=min(stop, complete))

    def _history(self, ticker: str, interval: yahoo.Interval, start: int, stop: int) -> Any:
        attempts = retrying(
            self.policy,
            (TransientChartError, YFRateLimitError),
            "yahoo",
            lambda error: getattr(error, "retry_after_s", None),
            self._count_retry,
        )
        try:
            return attempts(self._history_once, ticker, interval, start, stop)
        except (TransientChartError, YFRateLimitError) as exc:
            raise SourceUnavailable(
                f"yahoo: {ticker} {interval.name} failed {self.policy.attempts} times, last: {exc}"
            ) from None

    def _history_once(self, ticker: str, interval: yahoo.Interval, start: int, stop: int) -> Any:
        options: dict[str, Any] = {
            "interval": interval.name,
            "auto_adjust": False,  # OHLC as Yahoo publishes them, Adj Close beside them
            "actions": False,
            "keepna": True,  # a row of nulls (a halted day) is published; normalize rejects it
            "repair": False,  # never rewrite what Yahoo sent
            "timeout": self.policy.timeout_s,
        }
        if interval.daily:
            first, end = yahoo.daily_bounds(start, stop)
            if first >= end:
                return None
            if start <= yahoo.DAILY_EARLIEST:
                options.update(period="max", end=end)
            else:
                options.update(start=first, end=end)
        else:
            options.update(start=_utc(start), end=_utc(stop))
        self._pace()
        try:
            return yf.Ticker(ticker, session=self._session).history(**options)
        except ChartNotFound as exc:
            raise UnknownInstrument(f"yahoo does not know the ticker {ticker!r}: {exc}") from None
        except YFTzMissingError:
            # Every ticker Yahoo knows has an exchange timezone, read from the chart's meta
            # before any bar: none means Yahoo answered "Not Found".
            raise UnknownInstrument(f"yahoo does not know the ticker {ticker!r}") from None
        except YFPricesMissingError as exc:
            if exc.yahoo_reason is None:
                return None  # Yahoo answered without bars: an empty range
            if "no data found" in exc.yahoo_reason.lower():
                raise UnknownInstrument(
                    f"yahoo does not know the ticker {ticker!r}: {exc.yahoo_reason}"
                ) from None
            raise SourceUnavailable(
                f"yahoo refused {ticker} {interval.name}: {exc.yahoo_reason}"
            ) from None

    def _pace(self) -> None:
        """At least the policy's pause between two chart requests (retries included)."""
        wait = self._last_request_at + self.policy.pause_s - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_request_at = time.monotonic()

    def _count_retry(self) -> None:
        self.retries += 1


def _rows(frame: Any, ticker: str, interval: yahoo.Interval) -> Iterator[VendorRow]:
    if frame is None or frame.empty:
        return
    timezone = str(frame.index.tz) if frame.index.tz is not None else None
    for stamp, values in zip(frame.index, frame.to_dict("records"), strict=True):
        ts = _day_start(stamp) if interval.daily else int(stamp.value) // 1_000
        payload: dict[str, Any] = {"ts": ts // 1_000}
        payload.update({name: _number(values.get(name)) for name in COLUMNS})
        payload["exchange_timezone"] = timezone
        yield VendorRow(
            provider=PROVIDER,
            feed=interval.dataset,
            instrument=ticker,
            payload=json.dumps(payload, allow_nan=False, separators=(",", ":")).encode(),
            ts=ts,
        )


def _day_start(stamp: Any) -> int:
    """00:00 UTC of the trading date: yfinance stamps a daily bar with the exchange's midnight
    of that date, whatever the exchange's offset from UTC."""
    day = stamp.date()
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000


def _number(value: Any) -> float | int | None:
    """A pandas cell as JSON: NaN (Yahoo's null) is null, a whole volume stays an integer."""
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    return int(value) if isinstance(value, numbers.Integral) else number


def _utc(us: int) -> datetime:
    return datetime.fromtimestamp(us // 1_000_000, tz=UTC)

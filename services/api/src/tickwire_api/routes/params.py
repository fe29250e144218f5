"""Query parameters shared by the history routes, and 422s in FastAPI's own error shape so a
client reads every refusal the same way: the parameter's location, a message, a type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, Response
from fastapi.exception_handlers import http_exception_handler
from pydantic import AfterValidator, AwareDatetime

from tickwire_api import deps
from tickwire_api.domain.intervals import RangeError, bar_seconds, check_range, check_range_days
from tickwire_api.domain.sources import SourceFilter, check_rollup_interval, source_filter
from tickwire_api.settings import ApiSettings

INSTRUMENT = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"
PROVIDER = r"^[a-z0-9][a-z0-9_-]{0,31}$"

NAME = r"^[a-z][a-z0-9_]{0,63}$"

Instrument = Annotated[
    str, Query(pattern=INSTRUMENT, description="Unified instrument.", examples=["SIM-BTC-USD"])
]
OptionalInstrument = Annotated[
    str | None,
    Query(
        pattern=INSTRUMENT,
        description="Unified instrument; all when left out.",
        examples=["SIM-BTC-USD"],
    ),
]
Provider = Annotated[
    str | None,
    Query(pattern=PROVIDER, description="Provider; all when left out.", examples=["simulator"]),
]


def _in_utc_range(value: datetime) -> datetime:
    """Times must be representable in UTC from the epoch on (what the pipeline stores): year 1
    with a positive offset, say, is before datetime's own minimum once converted."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is outside the range of UTC date-times") from None
    if utc < _EPOCH:
        raise ValueError("the time is before 1970-01-01T00:00:00Z")
    return utc


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Time = Annotated[AwareDatetime, AfterValidator(_in_utc_range)]

Start = Annotated[
    Time,
    Query(description="Inclusive start, RFC 3339.", examples=["2023-11-14T22:13:20Z"]),
]
End = Annotated[
    Time,
    Query(description="Exclusive end, RFC 3339.", examples=["2023-11-14T23:13:20Z"]),
]
OptionalStart = Annotated[
    Time | None,
    Query(
        description="Inclusive start, RFC 3339; open when left out.",
        examples=["2023-11-14T22:13:20Z"],
    ),
]
OptionalEnd = Annotated[
    Time | None,
    Query(
        description="Exclusive end, RFC 3339; open when left out.",
        examples=["2023-11-14T23:13:20Z"],
    ),
]
Source = Annotated[
    str | None,
    Query(
        pattern=PROVIDER,
        description="What made the bars: one source (trade, mid, yahoo, coingecko, binance, "
        "...), or 'computed' (trade and mid, built from ticks) or 'vendor' (every vendor's). "
        "Left out, a range holding both computed and vendor bars is a 422 naming the sources. "
        "'rollup': trade bars the database rolls up from stored ticks, at 1m and 1h only, "
        "served only when asked for.",
        examples=["computed", "vendor", "trade", "yahoo", "rollup"],
    ),
]
Interval = Annotated[
    str,
    Query(
        description="Bar length: a number and s, m, h or d, from 1s to 1d.",
        examples=["1s", "5s", "1m", "15m", "1h", "1d"],
    ),
]
Limit = Annotated[
    int | None,
    Query(ge=1, description="Rows to return; default 100, at most max_limit.", examples=[100]),
]

DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class BarQuery:
    """The bars a request asks for, as /v1/bars and /v1/indicators both read them: `seconds` is
    the interval once it and the buckets of [start, end) are within the caps; `source` the
    filter as given, `sources` what it selects."""

    instrument: str
    provider: str | None
    interval: str
    start: datetime
    end: datetime
    seconds: int
    source: str | None
    sources: SourceFilter


def bar_query(
    settings: Annotated[ApiSettings, Depends(deps.settings)],
    instrument: Instrument,
    interval: Interval,
    start: Start,
    end: End,
    provider: Provider = None,
    source: Source = None,
) -> BarQuery:
    """A dependency: its parameters are the route's query parameters, in this order."""
    seconds = bar_seconds(interval, start, end, settings.max_buckets)
    sources = source_filter(source)
    if sources.computed:
        # Few buckets can still be many stored bars (a 1d bar built from ticks reads 1,440
        # minute bars): the span bounds the rows read. Vendor bars and the rollups are read at
        # their own interval, so years of daily vendor bars stay one request.
        check_range_days(start, end, settings.max_bar_range_days, "TICKWIRE_MAX_BAR_RANGE_DAYS")
    check_rollup_interval(sources, interval, seconds)
    return BarQuery(instrument, provider, interval, start, end, seconds, source, sources)


def invalid(parameter: str, message: str) -> HTTPException:
    return HTTPException(
        422, [{"type": "value_error", "loc": ["query", parameter], "msg": message}]
    )


def checked_optional_range(start: datetime | None, end: datetime | None) -> None:
    """A range with both ends given must be a valid one (422 otherwise); open ends are fine."""
    if start is not None and end is not None:
        check_range(start, end)


async def range_refused(request: Request, exc: Exception) -> Response:
    """The app's handler of RangeError, whichever route's domain check raised it: a 422 that
    names the parameter to fix."""
    assert isinstance(exc, RangeError)
    return await http_exception_handler(request, invalid(exc.parameter, str(exc)))


def checked_limit(limit: int | None, max_limit: int) -> int:
    if limit is None:
        return min(DEFAULT_LIMIT, max_limit)
    if limit > max_limit:
        raise invalid(
            "limit",
            f"limit {limit} is above the maximum of {max_limit} (the server's TICKWIRE_MAX_LIMIT)",
        )
    return limit

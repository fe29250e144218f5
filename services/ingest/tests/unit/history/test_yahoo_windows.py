"""Yahoo's windows as arithmetic: requests per dataset, the intraday lookback, complete bars."""

from datetime import UTC, datetime

import pytest

from tickwire_ingest.domain.history import yahoo
from tickwire_ingest.domain.history.yahoo import DAY_US, HOUR_US, MINUTE_US, RangeNotServed


def us(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp()) * 1_000_000


NOW = us(2025, 3, 15, 12)


def test_daily_history_is_one_request_whatever_its_length() -> None:
    since = us(1980, 12, 12)
    assert yahoo.windows("ohlcv:1d", since, NOW, NOW) == [(since, NOW)]


def test_minute_requests_span_seven_days_at_most() -> None:
    since = NOW - 20 * DAY_US
    assert yahoo.windows("ohlcv:1m", since, NOW, NOW) == [
        (since, since + 7 * DAY_US),
        (since + 7 * DAY_US, since + 14 * DAY_US),
        (since + 14 * DAY_US, NOW),
    ]


@pytest.mark.parametrize(
    ("dataset", "days"), [("ohlcv:1m", 30), ("ohlcv:5m", 60), ("ohlcv:1h", 730)]
)
def test_intraday_ranges_must_start_inside_yahoos_window(dataset: str, days: int) -> None:
    inside = NOW - days * DAY_US
    assert yahoo.windows(dataset, inside, inside + HOUR_US, NOW) == [(inside, inside + HOUR_US)]
    with pytest.raises(RangeNotServed, match=f"last {days} days only"):
        yahoo.windows(dataset, inside - 1, NOW, NOW)


def test_the_refusal_says_where_a_backfill_can_start() -> None:
    with pytest.raises(RangeNotServed, match="start at or after 2025-02-14T12:00:00Z"):
        yahoo.windows("ohlcv:1m", us(2024, 1, 1), NOW, NOW)


def test_nothing_is_asked_for_an_empty_or_future_range() -> None:
    assert yahoo.windows("ohlcv:5m", NOW, NOW, NOW) == []
    assert yahoo.windows("ohlcv:5m", NOW + HOUR_US, NOW + 2 * HOUR_US, NOW) == []


def test_a_range_is_cut_at_now() -> None:
    since = NOW - DAY_US
    assert yahoo.windows("ohlcv:5m", since, NOW + DAY_US, NOW) == [(since, NOW)]


def test_earliest_is_the_whole_daily_history_or_a_day_inside_the_intraday_window() -> None:
    assert yahoo.earliest("ohlcv:1d", NOW) == us(1900, 1, 1)
    assert yahoo.earliest("ohlcv:1m", NOW) == us(2025, 2, 14, 12)
    first = yahoo.earliest("ohlcv:1h", NOW + 17 * MINUTE_US)
    assert first % HOUR_US == 0
    assert yahoo.windows("ohlcv:1h", first, NOW, NOW + 17 * MINUTE_US)[0][0] == first


def test_a_bar_is_complete_once_its_interval_has_ended() -> None:
    assert yahoo.complete_until("ohlcv:1m", NOW) == NOW - MINUTE_US + 1
    # A daily bar is stamped 00:00 UTC of its trading date: complete at the next midnight.
    day = us(2025, 3, 14)
    assert day < yahoo.complete_until("ohlcv:1d", day + DAY_US)
    assert day >= yahoo.complete_until("ohlcv:1d", day + DAY_US - 1)


def test_daily_bounds_are_the_dates_whose_midnights_fall_in_the_range() -> None:
    assert yahoo.daily_bounds(us(2025, 1, 2), us(2025, 1, 10)) == ("2025-01-02", "2025-01-10")
    assert yahoo.daily_bounds(us(2025, 1, 2, 1), us(2025, 1, 10, 1)) == (
        "2025-01-03",
        "2025-01-11",
    )


def test_unknown_datasets_are_named() -> None:
    with pytest.raises(ValueError, match=r"not 'ohlcv:15m'"):
        yahoo.interval_of("ohlcv:15m")

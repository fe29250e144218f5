"""Which calendar an instrument is measured against, and the sessions exchange_calendars gives:
New York's full day, early close, weekend and holiday, in UTC."""

from datetime import UTC, date, datetime

import pytest

from tickwire_jobs.adapters.exchange_sessions import UnknownCalendar, check_calendars, session
from tickwire_jobs.domain.sessions import CalendarChoiceError, calendar_map


def test_crypto_venues_run_around_the_clock_and_us_equity_vendors_on_new_york() -> None:
    calendars = calendar_map()
    for provider in ("binance", "coinbase", "kraken", "deribit", "simulator"):
        assert calendars.calendar_of(provider, "BTC-USD") == "24/7"
    assert calendars.calendar_of("yahoo", "AAPL") == "XNYS"
    assert calendars.calendar_of("finra", "AAPL") == "XNYS"
    assert calendars.calendar_of("ig", "CS.D.EURUSD") == "24/7"  # not named: the default


def test_choices_override_a_provider_and_one_instrument() -> None:
    calendars = calendar_map(["ig=XLON", "yahoo/SHOP.TO=XTSE", "replay = XNYS"])
    assert calendars.calendar_of("ig", "FTSE") == "XLON"
    assert calendars.calendar_of("yahoo", "SHOP.TO") == "XTSE"
    assert calendars.calendar_of("yahoo", "AAPL") == "XNYS"
    assert calendars.calendar_of("replay", "X") == "XNYS"
    assert calendars.names() == {"24/7", "XNYS", "XLON", "XTSE"}
    for bad in ("ig", "=XNYS", "ig=", "yahoo/=XNYS"):
        with pytest.raises(CalendarChoiceError):
            calendar_map([bad])


def test_new_york_sessions_in_utc() -> None:
    first, last = date(2024, 11, 1), date(2024, 12, 31)

    def stretches(day: date) -> list[tuple[datetime, datetime]]:
        return list(session("XNYS", day, first, last).stretches)

    def utc(day: date, hour: int, minute: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)

    full = date(2024, 11, 27)  # EST: 09:30-16:00 is 14:30-21:00 UTC
    assert stretches(full) == [(utc(full, 14, 30), utc(full, 21, 0))]
    assert len(session("XNYS", full, first, last).minute_indexes()) == 390
    early = date(2024, 11, 29)  # the day after Thanksgiving closes at 13:00
    assert stretches(early) == [(utc(early, 14, 30), utc(early, 18, 0))]
    assert stretches(date(2024, 11, 28)) == []  # Thanksgiving
    assert stretches(date(2024, 11, 30)) == []  # a Saturday
    assert session("24/7", date(2024, 11, 30), first, last).minute_indexes() == frozenset(
        range(1440)
    )


def test_an_unknown_calendar_is_refused_by_name() -> None:
    check_calendars(["24/7", "XNYS", "XLON"])
    with pytest.raises(UnknownCalendar, match="NOPE"):
        check_calendars(["XNYS", "NOPE"])

"""Which trading calendar an instrument's coverage is measured against, and a day's session on
it: the hours of a UTC day in which the instrument is expected to have data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

AROUND_THE_CLOCK = "24/7"

# Crypto venues trade without a close; the US equity vendors (Yahoo's history, FINRA's short
# sale files) follow the New York Stock Exchange's calendar, which NASDAQ shares day for day.
# Anything not named here (a replay's provider, IG's CFDs) is measured around the clock until the
# operator says otherwise with --calendar.
DEFAULT_CALENDARS: Mapping[str, str] = {
    "binance": AROUND_THE_CLOCK,
    "coinbase": AROUND_THE_CLOCK,
    "kraken": AROUND_THE_CLOCK,
    "deribit": AROUND_THE_CLOCK,
    "coingecko": AROUND_THE_CLOCK,
    "simulator": AROUND_THE_CLOCK,
    "yahoo": "XNYS",
    "finra": "XNYS",
}

MINUTE = timedelta(minutes=1)
DAY_MINUTES = 1440


class CalendarChoiceError(ValueError):
    """A --calendar choice that is not PROVIDER[/INSTRUMENT]=CALENDAR."""


@dataclass(frozen=True)
class CalendarMap:
    """Calendar names by provider, and by provider and instrument for the exceptions (an ETF of
    another exchange, say); an instrument's own entry wins over its provider's."""

    by_provider: Mapping[str, str]
    by_instrument: Mapping[tuple[str, str], str]
    default: str = AROUND_THE_CLOCK

    def calendar_of(self, provider: str, instrument: str) -> str:
        found = self.by_instrument.get((provider, instrument))
        if found is not None:
            return found
        return self.by_provider.get(provider, self.default)

    def names(self) -> set[str]:
        return {self.default, *self.by_provider.values(), *self.by_instrument.values()}


def calendar_map(choices: Iterable[str] = ()) -> CalendarMap:
    """The defaults with each `PROVIDER=CALENDAR` or `PROVIDER/INSTRUMENT=CALENDAR` applied in
    turn (`24/7` for around the clock, else an exchange's code such as XNYS or XLON)."""
    by_provider = dict(DEFAULT_CALENDARS)
    by_instrument: dict[tuple[str, str], str] = {}
    for choice in choices:
        who, sep, calendar = choice.partition("=")
        provider, slash, instrument = who.strip().partition("/")
        calendar = calendar.strip()
        if not sep or not provider or not calendar or (slash and not instrument):
            raise CalendarChoiceError(
                f"{choice!r} is not PROVIDER=CALENDAR or PROVIDER/INSTRUMENT=CALENDAR"
            )
        if slash:
            by_instrument[(provider, instrument)] = calendar
        else:
            by_provider[provider] = calendar
    return CalendarMap(by_provider, by_instrument)


@dataclass(frozen=True)
class Session:
    """The stretches [open, close) of one UTC day in which the calendar's market is open, in
    UTC; none on a day without a session (a weekend, a holiday)."""

    calendar: str
    day: date
    stretches: tuple[tuple[datetime, datetime], ...]

    def minute_indexes(self) -> frozenset[int]:
        """The minutes of the day (0 = 00:00 UTC) that start inside the session."""
        midnight = day_start(self.day)
        found: set[int] = set()
        for opens, closes in self.stretches:
            first = max(0, -(-(opens - midnight) // MINUTE))
            last = min(DAY_MINUTES, -(-(closes - midnight) // MINUTE))
            found.update(range(first, last))
        return frozenset(found)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def around_the_clock(day: date) -> Session:
    midnight = day_start(day)
    return Session(AROUND_THE_CLOCK, day, ((midnight, midnight + timedelta(days=1)),))

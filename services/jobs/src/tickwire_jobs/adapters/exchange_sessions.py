"""A day's session on a named calendar: around the clock, or an exchange's trading calendar from
exchange_calendars (holidays, early closes and lunch breaks included)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

import exchange_calendars as xcals  # type: ignore[import-untyped]  # ships no type information

from tickwire_jobs.domain.sessions import AROUND_THE_CLOCK, Session, around_the_clock


class UnknownCalendar(ValueError):
    """A calendar name exchange_calendars does not know."""


def check_calendars(names: Iterable[str]) -> None:
    """Refuse, before any day is computed, a calendar name that is neither 24/7 nor an exchange
    code exchange_calendars knows."""
    known = set(xcals.get_calendar_names(include_aliases=True))
    unknown = sorted(set(names) - known - {AROUND_THE_CLOCK})
    if unknown:
        raise UnknownCalendar(
            f"no trading calendar named {', '.join(unknown)}: use 24/7 or an exchange code "
            "of exchange_calendars (XNYS, XNAS, XLON, ...)"
        )


@cache
def _calendar(name: str, first: date, last: date) -> Any:
    check_calendars([name])
    # exchange_calendars 4.13 reads a pandas attribute that pandas 3.1 deprecates: its warning
    # is for the library's authors, not for the people running the report.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return xcals.get_calendar(name, start=first, end=last)


def _utc(ts: Any) -> datetime:
    return ts.to_pydatetime()  # type: ignore[no-any-return]


def session(name: str, day: date, first: date, last: date) -> Session:
    """The session of `day` on calendar `name`; `first` and `last` bound the days one run asks
    for, so the calendar is built once per run."""
    if name == AROUND_THE_CLOCK:
        return around_the_clock(day)
    calendar = _calendar(name, first - timedelta(days=7), last + timedelta(days=7))
    key = day.isoformat()
    if not calendar.is_session(key):
        return Session(name, day, ())
    opens, closes = _utc(calendar.session_open(key)), _utc(calendar.session_close(key))
    if calendar.session_has_break(key):
        pause, resume = (
            _utc(calendar.session_break_start(key)),
            _utc(calendar.session_break_end(key)),
        )
        return Session(name, day, ((opens, pause), (resume, closes)))
    return Session(name, day, ((opens, closes),))
